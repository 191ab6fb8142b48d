"""Spanish editions: everything around the content speaks Spanish, translations
are tracked against their English source, and a third language takes only files."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from support import ROOT, SEED_DAY, pdf_outputs

from handoutpress.checks.translations import describe_changes, fingerprint, replace_block
from handoutpress.cli import main
from handoutpress.load.brand import load_brand
from handoutpress.load.content import ReviewDate, load_handout
from handoutpress.load.project import Project
from handoutpress.render.html import Labels, Renderer, load_labels, month_year
from handoutpress.render.variants import VARIANTS
from handoutpress.verify.audit import audit_pdf

EN = "handouts/en/ketamine-and-your-other-medications.yaml"
ES = "handouts/es/ketamine-and-your-other-medications.yaml"
# Large-print editions run past the batch's default page limit; that limit is not what these tests are about.
BATCH = ["--quiet", "--page-limit", "40"]
ES_PDFS = (
    "es/La-ketamina-y-sus-otros-medicamentos.pdf",
    "es/La-ketamina-y-sus-otros-medicamentos-Letra-Grande.pdf",
    "es/La-ketamina-y-sus-otros-medicamentos-Preguntas.pdf",
)


def copy_project(dest: Path) -> Path:
    """A private copy of the project's inputs, safe to change in a test."""
    for name in ("handouts", "labels", "templates", "styles", "brands", "assets"):
        shutil.copytree(ROOT / name, dest / name)
    return dest


def squash(text: str) -> str:
    """Extracted text as one line, words broken by hyphenation joined again."""
    return re.sub(r"\s+", " ", re.sub(r"\u2010\s*\n", "", text)).strip()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(scope="module")
def spanish_build(tmp_path_factory):
    """One Spanish handout built once (standard, large print, FAQ sheet) in a copy of the project."""
    root = copy_project(tmp_path_factory.mktemp("es-project"))
    out = root / "out"
    status = main(["--root", str(root), "build", str(root / ES), "--out", str(out), "--today", SEED_DAY, "--jobs", "2"] + BATCH)
    assert status == 0
    return root, out


# ---------------------------------------------------------------------------
# The Spanish PDFs


def test_every_page_of_every_spanish_pdf_carries_the_spanish_stamp(spanish_build):
    """Every page of each Spanish PDF has the Spanish crisis line, disclaimer, review months and page number."""
    _, out = spanish_build
    for rel in ES_PDFS:
        reader = PdfReader(out / rel)
        total = len(reader.pages)
        assert total >= 1
        for number, page in enumerate(reader.pages, start=1):
            text = squash(page.extract_text())
            assert "Emergencias: 911 · Llame al 988 y oprima el 2, o escriba AYUDA al 988" in text, (rel, number)
            assert "Solo para informarle. No reemplaza el consejo de su equipo de salud." in text, (rel, number)
            assert "Revisión: febrero de 2025" in text, (rel, number)
            assert "Próxima revisión: febrero de 2026" in text, (rel, number)
            assert f"Página {number} de {total}" in text, (rel, number)
            assert "Emergency" not in text and "Page " not in text, (rel, number)


def test_spanish_pdfs_declare_spanish_and_have_spanish_titles(spanish_build):
    """Each Spanish PDF's /Lang is es and its title (metadata and manifest) is the Spanish title."""
    _, out = spanish_build
    titles = {
        ES_PDFS[0]: "La ketamina y sus otros medicamentos",
        ES_PDFS[1]: "La ketamina y sus otros medicamentos (Letra grande)",
        ES_PDFS[2]: "La ketamina y sus otros medicamentos: Preguntas y respuestas",
    }
    for rel, title in titles.items():
        reader = PdfReader(out / rel)
        assert reader.trailer["/Root"]["/Lang"] == "es"
        assert reader.metadata["/Title"] == title
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entries = {e["path"]: e for e in pdf_outputs(manifest)}
    assert sorted(entries) == sorted(ES_PDFS)
    for entry in entries.values():
        assert entry["language"] == "es"
        assert entry["title"] == "La ketamina y sus otros medicamentos"
        assert entry["translation_status"] == "current"


def test_spanish_body_carries_the_988_spanish_option_and_the_spanish_disclaimer(spanish_build):
    """Page 1 of the Spanish handout tells the reader to press 2 on the 988 line for Spanish; the end has the full disclaimer."""
    _, out = spanish_build
    reader = PdfReader(out / ES_PDFS[0])
    first = squash(reader.pages[0].extract_text())
    assert "¿Está en crisis? Busque ayuda ahora" in first
    assert "En español: al llamar al 988, oprima el 2; por texto, envíe AYUDA al 988" in first
    whole = squash(" ".join(p.extract_text() for p in reader.pages))
    assert "Acerca de esta hoja informativa" in whole
    assert (
        "Para recibir ayuda en español, oprima el 2 cuando llame, o envíe la palabra AYUDA por mensaje de texto al 988." in whole
    )


def test_verify_accepts_the_spanish_stamp(spanish_build, capsys):
    """`verify` passes the Spanish PDFs, checking their stamp in Spanish."""
    root, out = spanish_build
    status, stdout, stderr = run(capsys, "--root", str(root), "verify", str(out / "es"), "--today", SEED_DAY)
    assert (status, stderr) == (0, "")
    assert stdout.splitlines()[-1] == "3 of 3 PDFs passed"


def test_verify_never_checks_a_spanish_pdf_against_english(spanish_build, tmp_path):
    """Without Spanish labels the audit says so, naming the language, instead of falling back to English."""
    root, out = spanish_build
    labels = tmp_path / "labels"
    labels.mkdir()
    shutil.copy(root / "labels" / "en.yaml", labels / "en.yaml")
    brand = load_brand(root / "brands" / "default", root)
    result = audit_pdf((out / ES_PDFS[2]).read_bytes(), "x.pdf", brand, Labels(labels))
    assert [str(p) for p in result.problems] == [
        "x.pdf: lang: cannot check the stamp in language 'es': labels/es.yaml: no labels for language 'es' (add labels/es.yaml)"
    ]


# ---------------------------------------------------------------------------
# Locale: dates, quotation marks, hyphenation, labels


def test_dates_come_from_the_locale_library():
    """Review months are written by Babel in the reader's language."""
    assert month_year(ReviewDate(2025, 2), "es") == "febrero de 2025"
    assert month_year(ReviewDate(2026, 2), "en") == "February 2026"
    assert month_year(ReviewDate(2025, 9), "es-MX") == "septiembre de 2025"


def test_spanish_html_uses_spanish_quotes_hyphenation_and_lang(tmp_path):
    """Spanish HTML is lang="es", hyphenates automatically and quotes with « »; English keeps “ ” and no hyphenation."""
    root = copy_project(tmp_path)
    path = root / ES
    text = path.read_text(encoding="utf-8").replace(
        "Es un folleto impreso sobre Spravato", 'Es un folleto impreso, la "Guía del medicamento", sobre Spravato'
    )
    path.write_text(text, encoding="utf-8")
    project = Project(root)
    brand = load_brand(root / "brands" / "default", root)
    html = Renderer(project).html(load_handout(path, root), VARIANTS["standard"], brand)
    assert '<html lang="es">' in html
    assert "hyphens: auto;" in html
    assert "«Guía del medicamento»" in html
    english = Renderer(project).html(load_handout(root / EN, root), VARIANTS["standard"], brand)
    assert '<html lang="en">' in english and "hyphens: manual;" in english


def test_spanish_labels_have_every_english_key():
    """labels/es.yaml has a Spanish word for every key of labels/en.yaml, and no leftover English."""
    en = load_labels(ROOT / "labels", "en")
    es = load_labels(ROOT / "labels", "es")
    assert set(es) >= set(en)
    same = {k for k in en if es[k] == en[k] and k not in ("quotes",)}
    assert same == set(), f"labels/es.yaml still in English: {sorted(same)}"


def test_a_missing_spanish_label_is_an_error_naming_key_and_language(tmp_path, capsys):
    """A label missing from labels/es.yaml stops the Spanish build with one line naming the key and the language."""
    root = copy_project(tmp_path)
    labels = root / "labels" / "es.yaml"
    labels.write_text(re.sub(r"(?m)^callout_tip: .*\n", "", labels.read_text(encoding="utf-8")), encoding="utf-8")
    status, _, stderr = run(
        capsys, "--root", str(root), "build", str(root / "handouts/es"), "--out", str(root / "out"), "--today", SEED_DAY
    )
    assert status == 1
    assert stderr.splitlines()[0] == "labels/es.yaml: callout_tip: missing label 'callout_tip' for language 'es'"
    assert not (root / "out" / "es").exists()


def test_missing_spanish_brand_wording_is_an_error_naming_key_and_language(tmp_path, capsys):
    """A brand whose Spanish wording lacks the crisis heading fails with the field wording.es.crisis_heading."""
    root = copy_project(tmp_path)
    brand = root / "brands" / "default" / "brand.yaml"
    lines = brand.read_text(encoding="utf-8").splitlines(keepends=True)
    es_line = lines.index("  es:\n") + 1
    brand.write_text("".join(line for line in lines if not line.startswith("    crisis_heading: ¿")), encoding="utf-8")
    status, _, stderr = run(
        capsys, "--root", str(root), "build", str(root / "handouts/es"), "--out", str(root / "out"), "--today", SEED_DAY
    )
    assert status == 1
    assert stderr.splitlines()[0] == (
        f"brands/default/brand.yaml:{es_line}: wording.es.crisis_heading: required field is missing"
    )


def test_a_language_without_brand_wording_is_an_error_naming_the_language(tmp_path, capsys):
    """Spanish content with a brand that has no Spanish wording fails, naming wording.es; English is never used instead."""
    root = copy_project(tmp_path)
    brand = root / "brands" / "default" / "brand.yaml"
    text = brand.read_text(encoding="utf-8")
    brand.write_text(text[: text.index("  es:\n")], encoding="utf-8")
    status, _, stderr = run(
        capsys, "--root", str(root), "build", str(root / "handouts/es"), "--out", str(root / "out"), "--today", SEED_DAY
    )
    assert status == 1
    assert stderr.splitlines()[0] == (
        "brands/default/brand.yaml: wording.es: no wording for language 'es' (add wording.es with the disclaimer and crisis lines)"
    )


# ---------------------------------------------------------------------------
# Tracking translations against their source


def _check(capsys, root: Path, *paths: str) -> tuple[int, list[str]]:
    status, _, stderr = run(capsys, "--root", str(root), "check", "--today", SEED_DAY, *(str(root / p) for p in paths))
    return status, [line for line in stderr.splitlines() if "translation" in line]


def test_the_spanish_editions_are_current(capsys):
    """The project's Spanish editions record the English editions they follow, so `check` finds nothing to say about them."""
    _, lines = _check(capsys, ROOT)
    assert lines == []


def test_changing_the_english_source_makes_its_translation_stale(tmp_path, capsys):
    """After an English edit, `check` reports the Spanish file as stale, naming both files and what changed."""
    root = copy_project(tmp_path)
    en = root / EN
    text = en.read_text(encoding="utf-8")
    text = text.replace(
        "Staff check on you for **at least 2 hours** afterward.", "Staff check on you for **at least 3 hours** afterward."
    )
    text = text.replace(
        "references:\n",
        "  - question: Can I eat before a session?\n    answer: Ask your care team. Many clinics ask you not to eat for 2 hours before.\nreferences:\n",
    )
    en.write_text(text, encoding="utf-8")
    old_edition = load_handout(ROOT / EN, ROOT).edition
    new_edition = load_handout(en, root).edition
    es_line = (root / ES).read_text(encoding="utf-8").splitlines().index("translation:") + 1
    status, lines = _check(capsys, root)
    assert status == 1
    assert lines == [
        f"{ES}:{es_line}: translation: stale translation of {EN}: the source changed since edition {old_edition} "
        f"(now {new_edition}): sections[2].body changed (section 'What happens at a Spravato visit'), faq[5] added; "
        f"update the translation, then run `generate.py translation {ES} --write`"
    ]
    # Checking only the English file still reports its Spanish translation.
    status, only_en = _check(capsys, root, EN)
    assert (status, only_en) == (1, lines)


TINY_EN = """title: Questions about ketamine
kind: faq
review:
  reviewed: 2025-02
  next_review: 2026-02
faq:
  - question: Does ketamine replace my antidepressant?
    answer: Usually not. Ask your care team which plan is right for you.
"""

TINY_ES = """title: Preguntas sobre la ketamina
kind: faq
review:
  reviewed: 2025-02
  next_review: 2026-02
faq:
  - question: ¿La ketamina reemplaza mi antidepresivo?
    answer: Por lo general, no. Pregunte a su equipo de salud qué plan es el adecuado para usted.
"""


def test_a_stale_translation_is_built_and_flagged(tmp_path, capsys):
    """A stale Spanish handout is still built, listed as stale in the manifest, and fails under --strict."""
    root = copy_project(tmp_path)
    en, es = root / "handouts/en/questions.yaml", root / "handouts/es/questions.yaml"
    en.write_text(TINY_EN, encoding="utf-8")
    es.write_text(TINY_ES, encoding="utf-8")
    assert main(["--root", str(root), "translation", str(es), "--source", "en", "--write", "--today", "2025-02-20"]) == 0
    en.write_text(TINY_EN.replace("Usually not.", "Usually not, but your prescriber decides."), encoding="utf-8")
    capsys.readouterr()
    out = root / "out"
    argv = ["--root", str(root), "build", str(es), "--out", str(out), "--today", SEED_DAY, "--jobs", "2", "--quiet"]
    status, _, stderr = run(capsys, *argv, "--strict")
    assert status == 1
    assert stderr.splitlines()[0].startswith(
        "handouts/es/questions.yaml:9: translation: stale translation of handouts/en/questions.yaml: the source changed since edition"
    )
    assert "faq[0].answer changed" in stderr and stderr.endswith("(built, and flagged in the manifest)\n")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {(e["path"], e["translation_status"]) for e in pdf_outputs(manifest)} == {
        ("es/Preguntas-sobre-la-ketamina.pdf", "stale"),
        ("es/Preguntas-sobre-la-ketamina-Letra-Grande.pdf", "stale"),
    }
    # Without --strict the same build succeeds: a stale translation is flagged, not withheld.
    assert run(capsys, *argv)[0] == 0


def test_a_translation_whose_source_is_gone_is_an_orphan(tmp_path, capsys):
    """Deleting the English source makes `check` report the Spanish file as an orphan, naming both files."""
    root = copy_project(tmp_path)
    (root / EN).unlink()
    meta = load_handout(ROOT / ES, ROOT).content.translation
    es_line = (root / ES).read_text(encoding="utf-8").splitlines().index("translation:") + 1
    status, lines = _check(capsys, root)
    assert status == 1
    assert lines == [
        f"{ES}:{es_line}: translation: orphan translation: its source {EN} no longer exists "
        f"(translated from edition {meta.source_edition}); remove this file or restore the source"
    ]


def test_a_translation_that_drops_a_part_of_its_source_is_an_error(tmp_path, capsys):
    """A Spanish file missing an answer its source edition had is reported, part by part."""
    root = copy_project(tmp_path)
    es = root / ES
    text = es.read_text(encoding="utf-8")
    start = text.index("  - question: ¿Qué pasa si más adelante")
    text = text[:start] + text[text.index("references:") :]
    es.write_text(text, encoding="utf-8")
    es_line = text.splitlines().index("translation:") + 1
    status, lines = _check(capsys, root)
    assert status == 1
    assert lines == [f"{ES}:{es_line}: translation: translation does not follow the shape of its source {EN}: faq[4] missing"]


def test_a_same_id_file_without_a_translation_block_is_an_error(tmp_path, capsys):
    """A Spanish file with the id of an English one must say it is a translation."""
    root = copy_project(tmp_path)
    es = root / ES
    text = es.read_text(encoding="utf-8")
    es.write_text(text[: text.index("translation:")], encoding="utf-8")
    status, lines = _check(capsys, root)
    assert status == 1
    assert lines == [
        f"{ES}:1: translation: same id as {EN} but no translation: block; a translation records its source "
        f"(run `generate.py translation {ES} --source en --write`)"
    ]


def test_recording_a_translation_clears_the_stale_finding(tmp_path, capsys):
    """`generate.py translation PATH --write` records the new source edition; the rest of the file is untouched."""
    root = copy_project(tmp_path)
    en = root / EN
    en.write_text(en.read_text(encoding="utf-8").replace("Often, yes.", "Usually, yes."), encoding="utf-8")
    es = root / ES
    before = es.read_text(encoding="utf-8")
    assert _check(capsys, root)[0] == 1
    status, stdout, _ = run(capsys, "--root", str(root), "translation", str(root / ES), "--write", "--today", "2025-06-10")
    assert status == 0 and stdout == f"recorded the source edition in {ES}\n"
    after = es.read_text(encoding="utf-8")
    assert after[: after.index("translation:")] == before[: before.index("translation:")]
    meta = load_handout(es, root).content.translation
    assert (str(meta.translated), meta.source_edition) == ("2025-06", load_handout(en, root).edition)
    assert meta.translator == "Traducción médica inglés-español, revisada por el equipo clínico"
    assert _check(capsys, root)[1] == []


def test_describe_changes_names_whole_items_once():
    """Added and removed items are named once by their path; changed parts by their field."""
    recorded = {"title": "a", "sections[0].heading": "b", "sections[0].body": "c", "faq[0].question": "d", "faq[0].answer": "e"}
    current = {
        "title": "a",
        "sections[0].heading": "b",
        "sections[0].body": "X",
        "sections[0].callout": "f",
        "sections[1].heading": "g",
        "sections[1].sections[0].heading": "h",
    }
    assert describe_changes(recorded, current) == [
        "sections[0].body changed",
        "sections[0].callout added",
        "sections[1] added",
        "faq[0] removed",
    ]


def test_fingerprint_ignores_review_dates():
    """Re-reviewing the English without changing a word leaves its translations current."""
    item = load_handout(ROOT / EN, ROOT)
    changed = item.content.model_copy(update={"review": item.content.review.model_copy(update={"reviewed": ReviewDate(2026, 1)})})
    assert fingerprint(changed) == fingerprint(item.content)


def test_replace_block_keeps_what_follows():
    """The translation block is replaced in place, and keys after it survive."""
    text = "title: x\ntranslation:\n  source: en\n  old: 1\n\n# next\nrelated: []\n"
    assert replace_block(text, "translation:\n  source: en\n") == "title: x\ntranslation:\n  source: en\n\n# next\nrelated: []\n"
    assert replace_block("title: x", "translation: {}\n") == "title: x\ntranslation: {}\n"


# ---------------------------------------------------------------------------
# A third language takes only files

PORTUGUESE_LABELS = {
    "key_takeaways": "Pontos principais",
    "in_this_handout": "Neste folheto",
    "questions_and_answers": "Perguntas e respostas",
    "faq_sheet_subtitle": "Respostas a perguntas comuns sobre este tema",
    "references": "Fontes",
    "related": "Folhetos relacionados",
    "about_this_handout": "Sobre este folheto",
    "reading_time": "Leitura de cerca de {minutes} min",
    "reviewed_by": "Revisado por {reviewer}",
    "written_by": "Escrito por {author}",
    "reviewed": "Revisado em {date}",
    "next_review": "Próxima revisão em {date}",
    "page_of": "Página {page} de {pages}",
    "edition": "Edição {edition}",
    "large_print": "Letra grande",
    "topics": "Temas",
    "contact_heading": "Dúvidas? Estamos aqui para ajudar",
    "phone": "Telefone",
    "website": "Site",
    "address": "Endereço",
    "email": "E-mail",
    "see_also": "Veja também: {titles}",
    "figure": "Figura",
    "table": "Tabela",
    "callout_info": "Bom saber",
    "callout_warning": "Importante",
    "callout_tip": "Dica",
    "words_to_know": "Palavras para conhecer",
    "file_large_print": "Letra-Grande",
    "file_faq_sheet": "Perguntas",
    "quotes": "“”‘’",
    "hyphens": "auto",
    "qr_alt": "Código QR: leia este folheto na internet em {url}",
    "read_online": "Leia na internet",
    "given_to": "Entregue a",
    "date_given": "Data de entrega",
    "given_by": "Entregue por",
    "edition_page_title": "{title}: edição {edition}",
    "edition_current_heading": "Esta folha impressa está atualizada",
    "edition_current_text": "A folha impressa com este código é a edição atual ({edition}, revisada em {reviewed}). Você pode continuar a usá-la.",
    "edition_current_link": "Leia este folheto na internet",
    "edition_replaced_heading": "Esta folha impressa foi substituída",
    "edition_replaced_text": "A folha impressa com este código é a edição {edition}, revisada em {reviewed}. Em {date}, foi substituída pela edição {by}. Alguns conselhos podem ter mudado; não se guie pela cópia em papel.",
    "edition_current_is": "A edição atual é a {edition}, revisada em {reviewed}.",
    "edition_replaced_link": "Leia o folheto atual",
    "edition_withdrawn_heading": "Este folheto foi retirado",
    "edition_withdrawn_text": "Em {date}, {clinic} deixou de entregar este folheto. Não se guie pela cópia em papel. Pergunte à sua equipe de saúde o que ler no lugar dele.",
    "edition_withdrawn_link": "Veja todos os nossos folhetos",
    "web_skip": "Ir para o folheto",
    "web_all_handouts": "Todos os folhetos",
    "web_other_languages": "Em outros idiomas",
    "web_languages": "Idiomas",
    "web_downloads": "Imprimir ou baixar",
    "web_pdf_standard": "Folheto (PDF)",
    "web_pdf_large_print": "Letra grande (PDF)",
    "web_pdf_faq_sheet": "Folha de perguntas e respostas (PDF)",
    "web_pdf_pages": "{pages} páginas, {size}",
    "web_pdf_one_page": "1 página, {size}",
    "web_index_title": "Folhetos para pacientes",
    "web_index_intro": "Todos os folhetos de {clinic}, por idioma e assunto.",
    "web_other_topics": "Outros assuntos",
}

PORTUGUESE_WORDING = """  pt:
    disclaimer_short: Apenas para informação. Não substitui a orientação da sua equipe de saúde.
    disclaimer_full: Este folheto é apenas para informação. Em caso de emergência, ligue para 911.
    crisis_stamp: "Emergência: 911 · Ligue ou envie mensagem para 988"
    crisis_heading: Em crise? Peça ajuda agora
    crisis_lines:
      - Se você ou outra pessoa estiver em perigo agora, ligue para **911**.
"""

PORTUGUESE_HANDOUT = """title: Perguntas sobre a cetamina
kind: faq
review:
  reviewed: 2025-03
  next_review: 2026-03
faq:
  - question: A cetamina substitui meu antidepressivo?
    answer: Geralmente não. Pergunte à sua equipe de saúde qual plano é melhor para você.
"""


def test_a_third_language_takes_only_files(tmp_path, capsys):
    """Portuguese content, labels and brand wording, and no code, give stamped Portuguese PDFs that verify."""
    root = copy_project(tmp_path)
    missing = set(load_labels(ROOT / "labels", "en")) - set(PORTUGUESE_LABELS)
    assert missing == set(), f"the Portuguese test labels lack new keys: {sorted(missing)}"
    (root / "labels" / "pt.yaml").write_text(
        "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in PORTUGUESE_LABELS.items()), encoding="utf-8"
    )
    brand = root / "brands" / "default" / "brand.yaml"
    brand.write_text(brand.read_text(encoding="utf-8") + PORTUGUESE_WORDING, encoding="utf-8")
    (root / "handouts" / "pt").mkdir()
    (root / "handouts" / "pt" / "perguntas-sobre-a-cetamina.yaml").write_text(PORTUGUESE_HANDOUT, encoding="utf-8")
    out = root / "out"
    status, _, stderr = run(
        capsys,
        "--root",
        str(root),
        "build",
        str(root / "handouts/pt"),
        "--out",
        str(out),
        "--today",
        SEED_DAY,
        "--jobs",
        "2",
        "--quiet",
    )
    assert (status, stderr) == (0, "")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(e["path"] for e in pdf_outputs(manifest)) == [
        "pt/Perguntas-sobre-a-cetamina-Letra-Grande.pdf",
        "pt/Perguntas-sobre-a-cetamina.pdf",
    ]
    assert {e["translation_status"] for e in manifest["outputs"]} == {"source"}
    reader = PdfReader(io.BytesIO((out / "pt/Perguntas-sobre-a-cetamina.pdf").read_bytes()))
    assert reader.trailer["/Root"]["/Lang"] == "pt"
    text = squash(reader.pages[0].extract_text())
    assert "Revisado em março de 2025" in text and "Próxima revisão em março de 2026" in text
    assert f"Página 1 de {len(reader.pages)}" in text
    status, _, stderr = run(capsys, "--root", str(root), "verify", str(out / "pt"), "--today", SEED_DAY)
    assert (status, stderr) == (0, "")


# ---------------------------------------------------------------------------
# Reading level in Spanish


def test_spanish_reading_ease_formulas():
    """Szigriszt-Pazos and Fernández-Huerta give their published values, and shorter sentences read easier."""
    from handoutpress.checks.readability import Counts, ease_to_grade, fernandez_huerta_ease, rules_for, szigriszt_pazos_ease

    c = Counts(sentences=10, words=100, syllables=200)
    assert round(szigriszt_pazos_ease(c), 3) == 72.235  # 206.835 - 62.3 x 2 - 10
    assert round(fernandez_huerta_ease(c), 3) == 76.64  # 206.84 - 0.60 x 200 - 1.02 x 10
    longer = Counts(sentences=5, words=100, syllables=200)
    assert fernandez_huerta_ease(longer) < fernandez_huerta_ease(c)
    assert szigriszt_pazos_ease(longer) < szigriszt_pazos_ease(c)
    assert (ease_to_grade(95), ease_to_grade(60), ease_to_grade(10)) == (4.5, 8.5, 16.0)
    rules = rules_for("es")
    assert rules.target == "szigriszt_pazos"
    assert [rules.syllables(w) for w in ("medicamento", "ketamina", "sí")] == [5, 4, 1]


def test_the_spanish_editions_read_fairly_easily():
    """Both Spanish handouts score 65 or more on Szigriszt-Pazos (INFLESZ "fairly easy"), about grade 8 or lower."""
    from handoutpress.checks.prose import handout_text
    from handoutpress.checks.readability import count_text, rules_for, scores, target_grade_of

    rules = rules_for("es")
    for path in sorted((ROOT / "handouts" / "es").glob("*.yaml")):
        text = handout_text(load_handout(path, ROOT), rules)
        counts = count_text([s.text for s in text.sentences], rules)
        result = scores(counts, rules)
        assert result["szigriszt_pazos"] >= 65, (path.name, result)
        assert target_grade_of(result, rules) <= 8, (path.name, result)
