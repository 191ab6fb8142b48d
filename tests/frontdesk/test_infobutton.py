"""The front desk's HL7 Infobutton answer: an EHR's code in, the matching handouts out, as Atom or JSON.

A small library is built once, for real: one handout coded in all four systems
with a Spanish translation (which inherits its codes), one coded with an
ICD-10-CM subcode and no translation. Requests go over HTTP to `serve`'s real
Starlette app on uvicorn; the feeds are parsed as an EHR would (xml.etree,
json) and every link is followed back to a file the build made.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

import pytest
from support import TODAY_DATE
from support.frontdesk import RunningServer, asgi, build, http, manifest
from support.project import MiniProject

from handoutpress.cli import main
from handoutpress.frontdesk.infobutton import answer, parse_question
from handoutpress.frontdesk.serve import Library, create_app
from handoutpress.publish import entry_codes

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
BASE_URL = "https://riverbend-clinic.example/handouts/"  # the default brand's
NAMES = {"icd10cm": "ICD-10-CM", "snomed": "SNOMED CT", "rxnorm": "RxNorm", "loinc": "LOINC"}
OIDS = {
    "icd10cm": "2.16.840.1.113883.6.90",
    "snomed": "2.16.840.1.113883.6.96",
    "rxnorm": "2.16.840.1.113883.6.88",
    "loinc": "2.16.840.1.113883.6.1",
}
MOOD_TITLE = "Feeling Low"
BACK_TITLE = "Depression That Comes Back: Signs & Steps"  # the ampersand must reach the feed escaped, and come back whole

MOOD = """
title: Feeling Low
topics: [Mood]
codes:
  icd10cm: [F33]
  snomed: ["35489007"]
  rxnorm: ["6130"]
  loinc: [2345-7]
review:
  reviewed: 2025-02
  next_review: 2026-02
  reviewer: Board-certified psychiatrist
  author: Clinical team
key_takeaways:
  - Low mood can get better with care.
sections:
  - heading: What helps
    body: |
      Talk with your care team. You can take small steps each day.
"""

MOOD_ES = """
title: Cuando se siente decaído
topics: [Estado de ánimo]
review:
  reviewed: 2025-02
  next_review: 2026-02
  reviewer: Psiquiatra con certificación de la especialidad
  author: Equipo clínico
key_takeaways:
  - El ánimo bajo puede mejorar con atención.
sections:
  - heading: Lo que ayuda
    body: |
      Hable con su equipo de salud. Puede dar pasos pequeños cada día.
"""

BACK = """
title: "Depression That Comes Back: Signs & Steps"
topics: [Mood]
codes:
  icd10cm: [F33.1]
review:
  reviewed: 2025-02
  next_review: 2026-02
  reviewer: Board-certified psychiatrist
  author: Clinical team
key_takeaways:
  - Depression can come back. Know the signs.
sections:
  - heading: Signs to watch for
    body: |
      Tell your care team if your sleep or mood changes for two weeks.
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> tuple[Path, Path]:
    """The small coded library, built once: 6 PDFs and 3 web pages."""
    root = tmp_path_factory.mktemp("infobutton") / "project"
    project = MiniProject(root)
    project.write("handouts/en/mood.yaml", MOOD)
    project.write("handouts/en/comes-back.yaml", BACK)
    project.write("handouts/es/mood.yaml", MOOD_ES)
    assert main(["--root", str(root), "translation", str(root / "handouts/es/mood.yaml"), "--source", "en", "--write"]) == 0
    out = root / "out"
    assert build(root, out) == 0
    return root, out


@pytest.fixture(scope="module")
def server(library):
    root, out = library
    with RunningServer(root, out, today=TODAY_DATE) as running:
        yield running


def ask(server, *, accept: str | None = None, **params: str) -> tuple[int, dict, bytes]:
    """GET /infobutton with the Infobutton parameters given by short name (cs, c, lang, type) or in full."""
    names = {
        "cs": "mainSearchCriteria.v.cs",
        "c": "mainSearchCriteria.v.c",
        "dn": "mainSearchCriteria.v.dn",
        "lang": "informationRecipient.languageCode.c",
        "type": "knowledgeResponseType",
    }
    query = urlencode({names.get(k, k): v for k, v in params.items()})
    return http(server.url + "infobutton?" + query)


def atom(body: bytes) -> ElementTree.Element:
    root = ElementTree.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    return root


def entries(feed: ElementTree.Element) -> list[tuple[str, str, str]]:
    """(title, language, summary) of each entry, in the feed's order."""
    return [(e.findtext(f"{ATOM}title"), e.get(XML_LANG), e.findtext(f"{ATOM}summary")) for e in feed.findall(f"{ATOM}entry")]


# ---------------------------------------------------------------------------
# The manifest: codes on every entry, inherited by translations, refreshed without typesetting


def test_every_manifest_entry_carries_its_codes_and_a_translation_inherits_them(library):
    """Each output's entry has its handout's codes; the Spanish translation (no codes in its YAML) has its source's."""
    root, out = library
    outputs = manifest(out)["outputs"]
    by_id = {(o["id"], o["language"], o["variant"]): o["codes"] for o in outputs}
    mood = {"icd10cm": ["F33"], "snomed": ["35489007"], "rxnorm": ["6130"], "loinc": ["2345-7"]}
    for variant in ("standard", "large-print", "web"):
        assert by_id[("mood", "en", variant)] == mood
        assert by_id[("mood", "es", variant)] == mood
        assert by_id[("comes-back", "en", variant)] == {"icd10cm": ["F33.1"]}
    assert "codes" not in (root / "handouts/es/mood.yaml").read_text(encoding="utf-8")
    assert manifest(out)["base_url"] == BASE_URL


def test_a_change_of_codes_alone_reaches_the_manifest_without_typesetting(library, tmp_path, capsys):
    """Codes do not print: editing only them typesets nothing, yet the next build's manifest (and answer) has them."""
    root, _ = library
    copy = tmp_path / "project"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("records"))
    out = copy / "out"
    before = {o["path"]: o["sha256"] for o in manifest(out)["outputs"]}
    source = copy / "handouts/en/comes-back.yaml"
    source.write_text(source.read_text(encoding="utf-8").replace("icd10cm: [F33.1]", "icd10cm: [F33.1, F32.A]"), encoding="utf-8")
    capsys.readouterr()
    assert main(["--root", str(copy), "build", "--out", str(out), "--today", "2026-11-20", "--jobs", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["built"] == [] and len(report["unchanged"]) == 6  # nothing typeset: every PDF's inputs are the same
    after = manifest(out)["outputs"]
    assert {o["path"]: o["sha256"] for o in after} == before  # not one byte of any output changed
    assert {o["variant"]: o["codes"] for o in after if o["id"] == "comes-back"} == {
        "standard": {"icd10cm": ["F33.1", "F32.A"]},
        "large-print": {"icd10cm": ["F33.1", "F32.A"]},
        "web": {"icd10cm": ["F33.1", "F32.A"]},
    }
    reply = answer(
        urlencode({"mainSearchCriteria.v.cs": OIDS["icd10cm"], "mainSearchCriteria.v.c": "F32.A"}), out, "http://127.0.0.1:1/"
    )
    assert [t for t, _, _ in entries(atom(reply.body))] == [BACK_TITLE]


def test_building_only_the_source_gives_its_kept_translation_the_new_codes(library, tmp_path, capsys):
    """`build handouts/en/mood.yaml` after a change of codes: the Spanish entries, kept as they were, follow their source."""
    root, _ = library
    copy = tmp_path / "project"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("records"))
    source = copy / "handouts/en/mood.yaml"
    source.write_text(
        source.read_text(encoding="utf-8").replace('rxnorm: ["6130"]', 'rxnorm: ["6130", "6131"]'), encoding="utf-8"
    )
    capsys.readouterr()
    argv = [
        "--root",
        str(copy),
        "build",
        str(source),
        "--out",
        str(copy / "out"),
        "--today",
        "2026-11-20",
        "--jobs",
        "1",
        "--json",
    ]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["built"] == []
    spanish = [o for o in manifest(copy / "out")["outputs"] if o["id"] == "mood" and o["language"] == "es"]
    assert {o["variant"] for o in spanish} == {"standard", "large-print", "web"}
    assert all(o["codes"]["rxnorm"] == ["6130", "6131"] and o["translation_of"] == "en" for o in spanish)


def test_a_manifest_written_before_codes_still_reads(tmp_path):
    """An older manifest (no codes, no base_url, no clinic) answers every code with an empty feed, not an error."""
    out = tmp_path / "out"
    out.mkdir()
    old = {
        "version": 1,
        "outputs": [
            {"path": "en/Feeling-Low.pdf", "id": "mood", "language": "en", "variant": "standard", "title": "Feeling Low"}
        ],
    }
    (out / "manifest.json").write_text(json.dumps(old), encoding="utf-8")
    assert entry_codes(old["outputs"][0]) == {}
    reply = answer(
        urlencode({"mainSearchCriteria.v.cs": OIDS["icd10cm"], "mainSearchCriteria.v.c": "F33"}), out, "http://127.0.0.1:1/"
    )
    feed = atom(reply.body)
    assert reply.status == 200 and feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}title") == "Handout Press: patient handouts"


# ---------------------------------------------------------------------------
# Requests and answers


@pytest.mark.parametrize(
    ("system", "code"),
    [("icd10cm", "F33"), ("icd10cm", "f33"), ("snomed", "35489007"), ("rxnorm", "6130"), ("loinc", "2345-7")],
)
def test_each_code_system_finds_its_handout_as_an_atom_feed(server, library, system, code):
    """A code of each of the four systems, named by its OID, answers with an Atom feed of the handout coded with it."""
    status, headers, body = ask(server, cs=OIDS[system], c=code)
    assert status == 200
    assert headers["content-type"] == "text/xml; charset=utf-8"
    assert headers["cache-control"] == "no-store, private"
    feed = atom(body)
    assert entries(feed) == [(MOOD_TITLE, "en", f"Coded {NAMES[system]} {code.upper()}.")]
    subtitle = feed.findtext(f"{ATOM}subtitle")
    assert f"{NAMES[system]} {code.upper()}" in subtitle and OIDS[system] in subtitle


def test_atom_feed_is_complete_and_links_the_published_page_and_pdfs(server, library):
    """The feed has id, title, updated and a subtitle naming the code; each entry links its page and PDFs under base_url."""
    root, out = library
    status, _, body = ask(server, cs=OIDS["icd10cm"], c="F33.1")
    feed = atom(body)
    for field in ("id", "title", "updated", "subtitle"):
        assert feed.findtext(f"{ATOM}{field}"), field
    assert feed.findtext(f"{ATOM}updated").endswith("Z")
    assert [(c.get("scheme"), c.get("term")) for c in feed.findall(f"{ATOM}category")] == [
        ("mainSearchCriteria.v.c", "F33.1"),
        ("mainSearchCriteria.v.cs", OIDS["icd10cm"]),
        ("informationRecipient.languageCode.c", "en"),
    ]
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "Riverbend Community Mental Health"
    first = feed.findall(f"{ATOM}entry")[0]
    links = [(link.get("rel"), link.get("type"), link.get("href")) for link in first.findall(f"{ATOM}link")]
    assert links == [
        ("alternate", "text/html", BASE_URL + "en/comes-back"),
        ("enclosure", "application/pdf", BASE_URL + "en/comes-back/Depression-That-Comes-Back-Signs-Steps.pdf"),
        ("enclosure", "application/pdf", BASE_URL + "en/comes-back/Depression-That-Comes-Back-Signs-Steps-Large-Print.pdf"),
    ]
    # Every link names a file the web edition published under that address.
    for _, _, href in links:
        rel = href.removeprefix(BASE_URL)
        assert (out / "web" / rel / "index.html").is_file() or (out / "web" / rel).is_file(), href
    edition = next(o["edition"] for o in manifest(out)["outputs"] if o["id"] == "comes-back")
    assert first.findtext(f"{ATOM}id") == f"{BASE_URL}en/comes-back/{edition}/"  # the edition's own page: stable


def test_icd10cm_subcode_finds_the_exact_handout_first_then_the_parent_category(server):
    """F33.1 finds the handout coded F33.1 (exact) before the one coded with its parent F33."""
    _, _, body = ask(server, cs=OIDS["icd10cm"], c="F331")  # the dot may be left out, as EHRs often send it
    assert entries(atom(body)) == [
        (BACK_TITLE, "en", "Coded ICD-10-CM F33.1."),
        (MOOD_TITLE, "en", "Coded ICD-10-CM F33, a parent category of F33.1."),
    ]
    _, _, body = ask(server, cs=OIDS["icd10cm"], c="F33")  # a parent never finds its children's handouts
    assert [t for t, _, _ in entries(atom(body))] == [MOOD_TITLE]


@pytest.mark.parametrize("language", ["es", "es-MX", "ES"])
def test_spanish_asked_gives_the_translation_or_the_english_handout_saying_so(server, language):
    """In Spanish: the translated handout in Spanish; one without a translation in English, its summary saying so."""
    _, _, body = ask(server, cs=OIDS["icd10cm"], c="F33.1", lang=language)
    feed = atom(body)
    assert feed.get(XML_LANG) == "es"
    assert entries(feed) == [
        (BACK_TITLE, "en", "Not available in Spanish; this is the English handout. Coded ICD-10-CM F33.1."),
        ("Cuando se siente decaído", "es", "Coded ICD-10-CM F33, a parent category of F33.1."),
    ]
    hrefs = [link.get("href") for link in feed.findall(f"{ATOM}entry")[1].findall(f"{ATOM}link")]
    assert hrefs[0] == BASE_URL + "es/mood" and all("/es/mood/" in h for h in hrefs[1:])


def test_json_is_the_same_feed_in_medlineplus_connect_shape(server, library):
    """knowledgeResponseType=application/json: feed.entry[].title, link[].href and summary, values under _value."""
    status, headers, body = ask(server, cs=OIDS["icd10cm"], c="F33.1", lang="es", type="application/json")
    assert status == 200 and headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store, private"
    feed = json.loads(body)["feed"]
    assert feed["lang"] == "es" and feed["base"] == BASE_URL
    assert feed["subtitle"]["_value"] == "Handouts for ICD-10-CM F33.1 (code system 2.16.840.1.113883.6.90), in Spanish"
    assert [(e["title"]["_value"], e["lang"]) for e in feed["entry"]] == [(BACK_TITLE, "en"), ("Cuando se siente decaído", "es")]
    assert feed["entry"][0]["summary"] == {
        "_value": "Not available in Spanish; this is the English handout. Coded ICD-10-CM F33.1.",
        "type": "text",
    }
    assert [link["href"] for link in feed["entry"][1]["link"]] == [
        BASE_URL + "es/mood",
        BASE_URL + "es/mood/Cuando-se-siente-decaido.pdf",
        BASE_URL + "es/mood/Cuando-se-siente-decaido-Letra-Grande.pdf",
    ]
    # The same feed as the Atom answer, entry for entry and link for link.
    _, _, xml = ask(server, cs=OIDS["icd10cm"], c="F33.1", lang="es")
    as_atom = [[link.get("href") for link in e.findall(f"{ATOM}link")] for e in atom(xml).findall(f"{ATOM}entry")]
    assert as_atom == [[link["href"] for link in e["link"]] for e in feed["entry"]]
    assert feed["id"]["_value"] == atom(xml).findtext(f"{ATOM}id")


@pytest.mark.parametrize(("asked", "language"), [("en-GB", "en"), ("pt", "pt-BR"), ("PT-br", "pt-BR"), ("es-419", "es")])
def test_a_language_tag_finds_the_librarys_form_of_it(asked, language):
    """A region the library does not have falls back to the base language, and a base language finds its regional form."""
    query = urlencode(
        {
            "mainSearchCriteria.v.cs": OIDS["rxnorm"],
            "mainSearchCriteria.v.c": "6130",
            "informationRecipient.languageCode.c": asked,
        }
    )
    assert parse_question(query, {"en", "es", "pt-BR"}).language == language


def test_no_match_is_an_empty_feed_not_an_error(server):
    """A valid code no handout carries: 200 and a well-formed feed with no entry, in either format."""
    status, _, body = ask(server, cs=OIDS["loinc"], c="718-7")
    assert status == 200 and atom(body).findall(f"{ATOM}entry") == []
    status, _, body = ask(server, cs=OIDS["snomed"], c="370143000", type="application/json")
    assert status == 200 and json.loads(body)["feed"]["entry"] == []


def test_patient_parameters_are_allowed_and_never_echoed(server):
    """Other Infobutton parameters (the patient's age and gender, the task) and a display name are allowed and ignored."""
    status, _, body = ask(
        server,
        cs=OIDS["rxnorm"],
        c="6130",
        dn="Ketamine Zyxwv",
        **{"age.v.v": "47", "age.v.u": "a", "patientPerson.administrativeGenderCode.c": "Qjxz", "taskContext.c.c": "Wvqk"},
    )
    assert status == 200 and [t for t, _, _ in entries(atom(body))] == [MOOD_TITLE]
    assert b"Zyxwv" not in body and b"Qjxz" not in body and b"Wvqk" not in body


@pytest.mark.parametrize(
    ("params", "line"),
    [
        (
            {"c": "F33"},
            "mainSearchCriteria.v.cs: missing; name the code system by its OID (ICD-10-CM 2.16.840.1.113883.6.90, "
            "SNOMED CT 2.16.840.1.113883.6.96, RxNorm 2.16.840.1.113883.6.88, LOINC 2.16.840.1.113883.6.1)",
        ),
        (
            {"cs": "2.16.840.1.113883.6.103", "c": "296.3"},
            "mainSearchCriteria.v.cs: '2.16.840.1.113883.6.103' is not a code system "
            "this library knows (ICD-10-CM 2.16.840.1.113883.6.90, SNOMED CT 2.16.840.1.113883.6.96, RxNorm 2.16.840.1.113883.6.88, "
            "LOINC 2.16.840.1.113883.6.1)",
        ),
        ({"cs": OIDS["icd10cm"]}, "mainSearchCriteria.v.c: missing; give the code to look up"),
        ({"cs": OIDS["icd10cm"], "c": "  "}, "mainSearchCriteria.v.c: missing; give the code to look up"),
        ({"cs": OIDS["icd10cm"], "c": "F99.999"}, "mainSearchCriteria.v.c: 'F99.999' is not an ICD-10-CM code"),
        (
            {"cs": OIDS["snomed"], "c": "35489008"},
            "mainSearchCriteria.v.c: '35489008' is not a SNOMED CT concept id (wrong check digit)",
        ),
        ({"cs": OIDS["loinc"], "c": "2345-8"}, "mainSearchCriteria.v.c: '2345-8' is not a LOINC code (wrong check digit)"),
        (
            {"cs": OIDS["rxnorm"], "c": "61a30"},
            "mainSearchCriteria.v.c: '61a30' is not an RxNorm code (an RXCUI is 1 to 7 digits)",
        ),
        ({"cs": OIDS["rxnorm"], "c": "6" * 41}, "mainSearchCriteria.v.c: longer than 40 characters; no code system's codes are"),
        (
            {"cs": OIDS["icd10cm"], "c": "F33", "type": "text/html"},
            "knowledgeResponseType: 'text/html' is not offered (text/xml, application/atom+xml, application/json)",
        ),
        (
            {"cs": OIDS["icd10cm"], "c": "F33", "lang": "fr"},
            "informationRecipient.languageCode.c: 'fr' is not a language of this library (en, es)",
        ),
        (
            {"cs": OIDS["icd10cm"], "c": "F33", "lang": "en_US!"},
            "informationRecipient.languageCode.c: 'en_US!' is not a language code (en, es, en-US)",
        ),
    ],
)
def test_a_request_that_cannot_be_answered_is_a_400_with_one_line(server, params, line):
    """Unknown systems, missing or malformed codes, unknown response types and languages: 400, one line naming the parameter."""
    status, headers, body = ask(server, **params)
    assert status == 400
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["cache-control"] == "no-store, private"
    assert body.decode() == line + "\n"


def test_a_repeated_parameter_is_a_400(server):
    """Two codes (or two of any Infobutton parameter) cannot be answered as one question."""
    cs, c = "mainSearchCriteria.v.cs=" + OIDS["icd10cm"], "mainSearchCriteria.v.c=F33"
    for query, line in [
        (f"{cs}&{c}&mainSearchCriteria.v.c=F32", b"mainSearchCriteria.v.c: sent more than once\n"),
        (f"{cs}&{cs}&{c}", b"mainSearchCriteria.v.cs: sent more than once\n"),
        (
            f"{cs}&{c}&knowledgeResponseType=text/xml&knowledgeResponseType=text/xml",
            b"knowledgeResponseType: sent more than once\n",
        ),
    ]:
        assert http(server.url + "infobutton?" + query)[::2] == (400, line), query


def test_without_a_base_url_the_links_are_this_servers_and_say_what_selected_them(library, tmp_path):
    """A brand with no base_url has no published site: the links are absolute on this server, carry ?via=, and work."""
    root, out = library
    local = tmp_path / "out"
    shutil.copytree(out, local)
    data = manifest(local)
    data["base_url"] = None
    (local / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with RunningServer(root, local, today=TODAY_DATE) as running:
        _, _, body = ask(running, cs=OIDS["rxnorm"], c="6130")
        feed = atom(body)
        hrefs = [link.get("href") for link in feed.findall(f"{ATOM}entry/{ATOM}link")]
        assert hrefs == [
            running.url + "web/en/mood/index.html?via=rxnorm%3A6130",
            running.url + "en/Feeling-Low.pdf?via=rxnorm%3A6130",
            running.url + "en/Feeling-Low-Large-Print.pdf?via=rxnorm%3A6130",
        ]
        status, headers, pdf = http(hrefs[1])
        assert (status, headers["content-type"]) == (200, "application/pdf")
        assert pdf == (local / urlsplit(hrefs[1]).path.lstrip("/")).read_bytes()
        assert feed.get("{http://www.w3.org/XML/1998/namespace}base") is None


def test_only_this_computer_may_ask(library):
    """The Infobutton route is behind the same guard as the catalogue: another client is refused before it runs."""
    root, out = library
    app = create_app(Library(root, out), today=TODAY_DATE)
    status, _, body = asgi(app, "/infobutton", client="192.168.1.20")
    assert (status, body) == (403, b"Only this computer may use the catalogue.\n")
