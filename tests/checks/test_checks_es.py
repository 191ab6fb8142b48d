"""Content checks on Spanish handouts: reading ease, plain-language rules, glossary and the Words to know box."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader
from support import ROOT, TODAY
from support.checks import fixture_project, messages, run_json

from handoutpress.checks import readability
from handoutpress.checks.plainlanguage import WORDS, is_action, is_passive, word_forms
from handoutpress.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "checks_es"
CLEAR = "handouts/es/dormir-mejor.yaml"
HARD = "handouts/es/insomnio-dificil.yaml"


@pytest.fixture
def project(tmp_path):
    """A small project: the Spanish fixture handouts and the real glossaries."""
    return fixture_project(tmp_path, FIXTURES, "es")




def handout(report: dict, path: str) -> dict:
    return next(h for h in report["handouts"] if h["path"] == path)


def test_clear_spanish_handout_has_no_findings_and_reports_its_target_formula(project, capsys):
    """A plain Spanish handout passes; its reading numbers are Szigriszt-Pazos (INFLESZ band, approximate grade) and Fernández-Huerta."""
    status, report = run_json(project, capsys)
    assert status == 0
    assert messages(report, CLEAR) == []
    h = handout(report, CLEAR)
    reading = h["reading"]
    assert set(reading["grades"]) == {"szigriszt_pazos", "fernandez_huerta"}
    assert (reading["target_formula"], reading["target_formula_name"], reading["target_formula_kind"]) == (
        "szigriszt_pazos",
        "Szigriszt-Pazos (INFLESZ)",
        "ease",
    )
    assert reading["grades"] == {"szigriszt_pazos": 83.5, "fernandez_huerta": 87.5}
    assert (reading["target_grade_value"], reading["band"]) == (5.7, "very easy")
    assert [(p["part"], p["grades"]["szigriszt_pazos"], p["target_grade_value"], p["band"]) for p in reading["parts"]] == [
        ("Key takeaways", 98.8, 4.1, "very easy"),
        ("Por qué importa el sueño", 66.4, 7.5, "fairly easy"),
        ("Cuándo pedir ayuda", 89.2, 5.1, "very easy"),
    ]
    assert report["target_formulas"] == {"es": "szigriszt_pazos"}
    assert h["words_to_know"] == ["antidepresivo"]
    pl = h["plain_language"]
    assert (pl["addresses_reader"], pl["action_sentences"], pl["jargon"], pl["not_applicable"]) == (True, 3, [], [])


def test_hard_spanish_handout_gets_every_spanish_finding(project, capsys):
    """Each Spanish rule fires with an exact message: acronym, tú, no usted, no action, ser-passive, jargon, a 7-syllable word."""
    status, report = run_json(project, capsys)
    f = HARD
    assert messages(report, f) == [
        f"warning: {f}:11: sections[0].body: acronym TEC is not spelled out at its first use: write the words, then (TEC), "
        "or define it in glossary/es.yaml",
        f"warning: {f}:1: key_takeaways: no key takeaways: add 3 to 5 short sentences that sum up the handout",
        f'warning: {f}:1: the reader is never addressed as "usted"; speak to the reader directly',
        f"warning: {f}:11: sections[0].body: “te” speaks to the reader as “tú”; the clinic's handouts speak as “usted”: "
        "keep to “usted” throughout (“Si te cuesta dormir, la TEC puede ser una opción. La EMT (estimulación magnétic…”)",
        f"warning: {f}:1: no action for the reader: no sentence tells the reader what to do "
        "(for example, “Llame a su equipo de salud si su ánimo empeora.”)",
        f"note: {f}:9: sections[0].body: passive voice in 40% of sentences (2 of 5; aim for 10% or less; a heuristic, not blocking): "
        "“El insomnio fue confirmado por el especialista.”, “La posología fue ajustada en EE. UU. según la guía.”",
        f"warning: {f}:9: sections[0].body: “posología” is medical jargon: use a plainer word, or define it in glossary/es.yaml",
        f"warning: {f}:13: sections[0].body: “farmacocinética” is a long word (7 syllables) that is neither in the everyday "
        "word list nor in glossary/es.yaml: use a plainer word, or define it there",
    ]
    assert status == 0  # warnings and notes alone do not fail
    assert main(["--root", str(project), "check", "--today", TODAY, "--strict"]) == 1


def test_ee_uu_is_an_abbreviation_and_an_english_acronym_given_in_its_expansion_is_spelled_out(project, capsys):
    """The Spanish "EE. UU." is never two acronyms; "TMS por sus siglas en inglés" inside the expansion counts, TMS on its own does not."""
    _, report = run_json(project, capsys)
    assert not [m for m in messages(report, HARD) if re.search(r"acronym (EE|UU|TMS|EMT)\b", m)]
    path = project / HARD
    path.write_text(path.read_text(encoding="utf-8").replace(", o TMS por sus siglas en inglés)", ") o TMS"), encoding="utf-8")
    _, report = run_json(project, capsys)
    assert (
        f"warning: {HARD}:11: sections[0].body: acronym TMS is not spelled out at its first use: write the words, then (TMS), "
        "or define it in glossary/es.yaml"
    ) in messages(report, HARD)


def test_spanish_long_words_start_at_five_syllables_and_everyday_words_pass(project, capsys):
    """Four-syllable words never count as long in Spanish; everyday 5+ syllable words pass in any number and gender."""
    path = project / CLEAR
    extra = " Puede sentirse desconectada y con dificultades, pero la ketamina y la estimulación a veces ayudan."
    path.write_text(path.read_text(encoding="utf-8").replace("que note.", "que note." + extra), encoding="utf-8")
    _, report = run_json(project, capsys)
    assert messages(report, CLEAR) == [
        f"warning: {CLEAR}:14: sections[0].body: “estimulación” is a long word (5 syllables) that is neither in the everyday "
        "word list nor in glossary/es.yaml: use a plainer word, or define it there"
    ]
    assert {"desconectado", "desconectada"} <= word_forms("desconectadas", "es")
    assert "dificultad" in word_forms("dificultades", "es") and "combinación" in word_forms("combinaciones", "es")
    assert word_forms("doses", "en") == {"doses", "dose"}  # English keeps its plain "-s" rule


def test_spanish_commands_usted_and_ser_passives():
    """Commands (also after "No", with attached pronouns, or after an opening clause) are actions; ser + participle is passive, "se" is not."""
    es = WORDS["es"]
    actions = {
        "Llame a su equipo de salud.": True,
        "No deje su antidepresivo por su cuenta.": True,
        "Cuéntele a su médico sobre sus vitaminas.": True,
        "Si le cuesta dormir, dígaselo a su proveedor.": True,
        "Antes de cada visita, anote sus preguntas.": True,
        "¿Debo seguir tomando mi antidepresivo?": False,
        "Quien le receta decidirá la dosis.": False,
        "No, gracias.": False,
    }
    assert {s: is_action(s, es) for s in actions} == actions
    passives = {
        "Spravato fue aprobado por la FDA.": True,
        "La dosis debe ser ajustada por su médico.": True,
        "El tratamiento ya ha sido aprobado.": True,
        "La ketamina es adecuada para usted.": False,
        "La ketamina se da en la clínica.": False,
        "Es una bebida común.": False,
    }
    assert {s: is_passive(s, es) for s in passives} == passives


def test_a_language_without_word_lists_gets_one_note_and_no_guessing(project, capsys, monkeypatch):
    """A language with reading formulas but no word lists: one note naming the checks that do not apply, PEMAT items not judged."""
    monkeypatch.setitem(readability.LANGUAGES, "pt", dataclasses.replace(readability.LANGUAGES["es"], code="pt"))
    (project / "handouts" / "pt").mkdir()
    (project / "handouts" / "pt" / "dormir.yaml").write_text(
        "title: Dormir melhor\nkind: handout\nreview:\n  reviewed: 2026-06\n  next_review: 2027-06\n"
        "key_takeaways:\n  - Dormir bem ajuda o seu humor.\nsections:\n  - heading: Por que o sono importa\n"
        "    body: |\n      O sono ajuda o corpo a descansar. Converse com a sua equipe de saúde sobre as dificuldades.\n"
        "codes:\n  icd10cm: [G47.0]\n",
        encoding="utf-8",
    )
    _, report = run_json(project, capsys)
    f = "handouts/pt/dormir.yaml"
    assert messages(report, f) == [
        f"note: {f}:1: these checks do not apply to language 'pt', which has no word lists for them "
        "(handoutpress/plainlanguage.py WORDS, handoutpress/data/jargon-pt.txt and plain-words-pt.txt): "
        "reader addressed directly, actions for the reader, passive voice, long words (no everyday word list), "
        "medical jargon (no jargon list)"
    ]
    items = {i["number"]: i["result"] for i in handout(report, f)["pemat_p_subset"]["items"]}
    assert (items[5], items[20], items[21]) == ("n/a", "n/a", "n/a")


def test_terminal_table_names_the_target_formula_and_shows_spanish_numbers(project, capsys):
    """The text table's heading names Szigriszt-Pazos for a Spanish handout; each row has its ease, grade, Fernández-Huerta and band."""
    assert main(["--root", str(project), "check", "--today", TODAY, str(project / CLEAR)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == (
        "  reading grade                                  SzP  grade    F-H  sent.  words   "
        "target: grade 8, from Szigriszt-Pazos (INFLESZ) ease as an approximate grade"
    )
    assert out[2] == "    whole handout                               83.5    5.7   87.5      8     87  very easy"
    assert out[4] == "    Por qué importa el sueño                    66.4    7.5   71.1      4     34  fairly easy"
    assert "    F-H: Fernández-Huerta ease (higher is easier), for comparison" in out


def test_real_spanish_handouts_check_clean_with_a_glossary_term_for_each_english_one():
    """The Spanish editions have no findings, and each uses as many glossary terms as its English source."""
    buf = io.StringIO()
    with redirect_stdout(buf):
        status = main(["--root", str(ROOT), "check", "--today", "2025-06-01", "--format", "json"])
    report = json.loads(buf.getvalue())
    assert (status, report["errors"], report["warnings"], report["notes"]) == (0, 0, 0, 0)
    assert report["target_formulas"] == {"en": "flesch_kincaid", "es": "szigriszt_pazos"}
    by_path = {h["path"]: h for h in report["handouts"]}
    for path, h in by_path.items():
        if h["language"] != "es":
            continue
        english = by_path[path.replace("handouts/es/", "handouts/en/")]
        expected = {"ketamine-and-antidepressants.yaml": 17, "ketamine-and-your-other-medications.yaml": 16}[Path(path).name]
        assert len(h["words_to_know"]) == len(english["words_to_know"]) == expected, (path, h["words_to_know"])
        assert h["reading"]["band"] == "fairly easy" and h["reading"]["target_grade_value"] <= 8
    assert "receptor NMDA" in by_path["handouts/es/ketamine-and-antidepressants.yaml"]["words_to_know"]
    assert {"EMT", "IV", "TCC", "reducir poco a poco"} <= set(
        by_path["handouts/es/ketamine-and-your-other-medications.yaml"]["words_to_know"]
    )


def test_spanish_glossary_reads_fairly_easily_and_speaks_as_usted():
    """glossary/es.yaml's definitions score 65 or more on Szigriszt-Pazos together, and never use tú forms."""
    rules = readability.rules_for("es")
    terms = yaml.safe_load((ROOT / "glossary" / "es.yaml").read_text(encoding="utf-8"))["terms"]
    sentences = [t["definition"][a:b] for t in terms for a, b in readability.split_sentences(t["definition"], rules)]
    ease = readability.scores(readability.count_text(sentences, rules), rules)["szigriszt_pazos"]
    assert ease >= 65, ease
    informal = WORDS["es"].informal_you
    assert [t["term"] for t in terms if informal & {w.lower() for w in readability.words_in(t["definition"])}] == []


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The clear Spanish fixture built once, with the project's labels, templates, styles, brand and glossary."""
    root = tmp_path_factory.mktemp("es-checks")
    for name in ("labels", "templates", "styles", "brands", "assets", "glossary"):
        shutil.copytree(ROOT / name, root / name)
    (root / "handouts" / "es").mkdir(parents=True)
    shutil.copy(FIXTURES / "dormir-mejor.yaml", root / CLEAR)
    out = root / "out"
    status = main(
        ["--root", str(root), "build", str(root / "handouts"), "--out", str(out), "--today", TODAY, "--jobs", "1", "--quiet"]
    )
    assert status == 0
    return out


def test_spanish_pdf_has_the_words_to_know_box_in_spanish(built):
    """The Spanish PDF prints "Palabras que debe conocer" with the glossary's Spanish definition of each term it uses."""
    reader = PdfReader(built / "es" / "Como-dormir-mejor.pdf")
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    assert "Palabras que debe conocer" in text
    assert "antidepresivo: Un medicamento que trata la depresión. La mayoría tarda algunas semanas en ayudar." in text
    assert "Words to know" not in text


def test_manifest_records_the_spanish_reading_numbers(built):
    """The build's manifest carries each Spanish output's Szigriszt-Pazos and Fernández-Huerta scores, approximate grade and band."""
    manifest = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    entry = next(e for e in manifest["outputs"] if e["path"] == "es/Como-dormir-mejor.pdf")
    grades = entry["reading_grades"]
    assert {k: grades[k] for k in ("szigriszt_pazos", "fernandez_huerta", "target_formula", "target_grade_value", "band")} == {
        "szigriszt_pazos": 83.5,
        "fernandez_huerta": 87.5,
        "target_formula": "szigriszt_pazos",
        "target_grade_value": 5.7,
        "band": "very easy",
    }
