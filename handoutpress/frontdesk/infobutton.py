"""The front desk's HL7 Infobutton answer: ``GET /infobutton?...``, answered from ``out/manifest.json``.

An EHR asks for the education that fits a code from the patient's chart, in the
URL-based form of the HL7 Infobutton standard (the form MedlinePlus Connect
answers)::

    /infobutton?mainSearchCriteria.v.cs=2.16.840.1.113883.6.90
               &mainSearchCriteria.v.c=F33.1
               &informationRecipient.languageCode.c=es
               &knowledgeResponseType=application/json

- ``mainSearchCriteria.v.cs``: the code system's OID (`load.codes.SYSTEM_OIDS`).
- ``mainSearchCriteria.v.c``: the code, checked as the loader checks a handout's
  (`load.codes.check_code`).
- ``mainSearchCriteria.v.dn``: the code's display name; allowed, not used.
- ``informationRecipient.languageCode.c``: ``en`` (the default), ``es``, or any
  language of the library; a region (``en-US``) is allowed and dropped when the
  library has no handouts in exactly that tag.
- ``knowledgeResponseType``: ``text/xml`` (the default) or
  ``application/atom+xml`` for an Atom feed, ``application/json`` for the same
  feed in JSON, shaped as MedlinePlus Connect shapes it (``feed.entry[].title``,
  ``link[].href``, ``summary``; each value under ``_value``).

Every other parameter of the standard (the patient's age and gender, the task,
the performer) is allowed and ignored: nothing of a request is stored or logged.

One entry per matching handout, most specific match first (`load.codes.find_handouts`:
an exact code, then a handout coded with a parent ICD-10-CM category, nearer
parents first), in the asked language, else in English with its summary saying
so. Links are absolute: under the brand's ``base_url`` (recorded in the manifest
by the build) the handout's web page, as its QR code names it
(`render.qr.handout_url`), and each PDF's copy beside that page (where the web
edition puts it). A brand without a ``base_url`` has no published web edition,
so its entries link the page and the PDFs as this server serves them, each with
``?via=<system>:<code>`` so the hand-out record knows what selected it. A
request that cannot be answered is a 400 with one line naming the parameter;
no match is an empty feed.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode
from xml.etree import ElementTree

from handoutpress.frontdesk.catalogue import VARIANT_LABELS, VARIANT_ORDER, language_names
from handoutpress.load.codes import SYSTEM_NAMES, SYSTEM_OIDS, CodeSet, check_code, find_handouts, icd10cm_lineage
from handoutpress.publish import MANIFEST, WEB_VARIANT, entry_codes, read_manifest
from handoutpress.render.qr import handout_url

PARAM_SYSTEM = "mainSearchCriteria.v.cs"
PARAM_CODE = "mainSearchCriteria.v.c"
PARAM_NAME = "mainSearchCriteria.v.dn"
PARAM_LANGUAGE = "informationRecipient.languageCode.c"
PARAM_TYPE = "knowledgeResponseType"
PARAMETERS = (PARAM_SYSTEM, PARAM_CODE, PARAM_NAME, PARAM_LANGUAGE, PARAM_TYPE)

DEFAULT_LANGUAGE = "en"
DEFAULT_TYPE = "text/xml"
# What each response type is sent as.
RESPONSE_TYPES = {
    "text/xml": "text/xml; charset=utf-8",
    "application/atom+xml": "application/atom+xml; charset=utf-8",
    "application/json": "application/json",
}
# The request names a code from a patient's chart: no cache, shared or private, may keep the answer.
CACHE_CONTROL = "no-store, private"
MAX_QUERY = 4096  # characters; a real request is a few hundred
MAX_FIELDS = 64
MAX_CODE = 40  # characters; the longest codes (SNOMED CT) have 18

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
OID_SYSTEMS = {oid: system for system, oid in SYSTEM_OIDS.items()}
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


class InfobuttonError(ValueError):
    """A request that cannot be answered: one line naming the parameter (sent as a 400)."""


@dataclass(frozen=True)
class Question:
    """What the EHR asked, checked: the system, the code in its kept form, the language, the response type."""

    system: str
    code: str
    language: str
    response_type: str


# ---------------------------------------------------------------------------
# The request


def parse_question(query: str, languages: Collection[str]) -> Question:
    """The question in the URL query ``query`` (still percent-encoded), or `InfobuttonError`.

    ``languages``: the library's languages (from the manifest), which a request may ask for.
    """
    if len(query) > MAX_QUERY:
        raise InfobuttonError(f"request: the query is longer than {MAX_QUERY} characters")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise InfobuttonError(f"request: more than {MAX_FIELDS} parameters, or a query that cannot be read") from None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in PARAMETERS:
            if name in values:
                raise InfobuttonError(f"{name}: sent more than once")
            values[name] = value.strip()
    system = _system(values.get(PARAM_SYSTEM, ""))
    raw_code = values.get(PARAM_CODE, "")
    if not raw_code:
        raise InfobuttonError(f"{PARAM_CODE}: missing; give the code to look up")
    if len(raw_code) > MAX_CODE:
        raise InfobuttonError(f"{PARAM_CODE}: longer than {MAX_CODE} characters; no code system's codes are")
    try:
        code = check_code(system, raw_code)
    except ValueError as exc:
        raise InfobuttonError(f"{PARAM_CODE}: {exc}") from None
    response_type = values.get(PARAM_TYPE) or DEFAULT_TYPE
    if response_type not in RESPONSE_TYPES:
        offered = ", ".join(RESPONSE_TYPES)
        raise InfobuttonError(f"{PARAM_TYPE}: {response_type[:60]!r} is not offered ({offered})")
    return Question(system, code, _language(values.get(PARAM_LANGUAGE) or DEFAULT_LANGUAGE, languages), response_type)


def _system(oid: str) -> str:
    known = ", ".join(f"{SYSTEM_NAMES[s]} {o}" for s, o in SYSTEM_OIDS.items())
    if not oid:
        raise InfobuttonError(f"{PARAM_SYSTEM}: missing; name the code system by its OID ({known})")
    if oid not in OID_SYSTEMS:
        raise InfobuttonError(f"{PARAM_SYSTEM}: {oid[:80]!r} is not a code system this library knows ({known})")
    return OID_SYSTEMS[oid]


def _language(asked: str, languages: Collection[str]) -> str:
    """The library's language for the tag ``asked``: the same tag in any case, else its base language
    (``en-US`` -> ``en``), else a regional form of that language (``pt`` -> ``pt-BR``)."""
    if not _LANGUAGE_TAG.match(asked):
        raise InfobuttonError(f"{PARAM_LANGUAGE}: {asked[:40]!r} is not a language code (en, es, en-US)")
    offered = sorted({*languages, DEFAULT_LANGUAGE})
    by_folded = {language.lower(): language for language in offered}
    base = asked.split("-")[0].lower()
    regional = [language for language in offered if language.split("-")[0].lower() == base]
    found = by_folded.get(asked.lower()) or by_folded.get(base) or (regional[0] if regional else None)
    if found is None:
        raise InfobuttonError(f"{PARAM_LANGUAGE}: {asked!r} is not a language of this library ({', '.join(offered)})")
    return found


# ---------------------------------------------------------------------------
# The feed, as data: built once, written as Atom or as JSON


@dataclass(frozen=True)
class FeedLink:
    href: str
    rel: str  # "alternate": the entry itself (its web page, else its standard PDF); "enclosure": a PDF
    type: str
    title: str
    hreflang: str
    length: int | None = None  # bytes, for a PDF


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    language: str
    summary: str
    links: tuple[FeedLink, ...]


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    subtitle: str
    updated: str  # RFC 3339, UTC
    language: str
    author: str
    base: str | None  # the brand's base_url
    categories: tuple[tuple[str, str], ...]  # (scheme, term): the question, as MedlinePlus Connect echoes it
    entries: tuple[FeedEntry, ...] = field(default=())


@dataclass
class ListedHandout:
    """One handout in one language, as the manifest's entries describe it (a `load.codes.Coded`)."""

    id: str
    language: str
    codes: CodeSet
    title: str
    entries: list[Mapping[str, Any]]


def listed_handouts(outputs: Iterable[Any]) -> list[ListedHandout]:
    """Every handout in every language the manifest lists, with its codes and its outputs."""
    listed: dict[tuple[str, str], ListedHandout] = {}
    for entry in sorted((o for o in outputs if isinstance(o, Mapping)), key=lambda o: str(o.get("path"))):
        key = (str(entry.get("id") or ""), str(entry.get("language") or ""))
        if not all(key) or not entry.get("path"):
            continue
        if key not in listed:
            listed[key] = ListedHandout(key[0], key[1], CodeSet.of(entry_codes(entry)), str(entry.get("title") or key[0]), [])
        listed[key].entries.append(entry)
    return list(listed.values())


def chosen_handouts(listed: list[ListedHandout], question: Question) -> list[tuple[int, ListedHandout]]:
    """The matching handouts, one per id: in the asked language, else in English; most specific first."""
    by_id: dict[str, dict[str, tuple[int, ListedHandout]]] = {}
    for rank, handout in find_handouts(listed, question.system, question.code):
        by_id.setdefault(handout.id, {})[handout.language] = (rank, handout)
    chosen = []
    for languages in by_id.values():
        pick = languages.get(question.language) or languages.get(DEFAULT_LANGUAGE)
        if pick is not None:
            chosen.append(pick)
    return sorted(chosen, key=lambda pair: (pair[0], pair[1].id))


def build_feed(question: Question, manifest: Mapping[str, Any], updated: datetime, local_root: str) -> Feed:
    """The feed that answers ``question`` from ``manifest``.

    ``updated``: when the manifest was written (the build). ``local_root``: this
    server's address (``http://127.0.0.1:8000/``), for PDF links when the brand has no base_url.
    """
    base = manifest.get("base_url") if isinstance(manifest.get("base_url"), str) else None
    clinic = str(manifest.get("clinic") or "Handout Press")
    stamp = updated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = []
    for rank, handout in chosen_handouts(listed_handouts(manifest.get("outputs") or ()), question):
        entry = _entry(handout, rank, question, base, local_root)
        if entry is not None:
            entries.append(entry)
    name, oid = SYSTEM_NAMES[question.system], SYSTEM_OIDS[question.system]
    return Feed(
        id=_urn("feed", question.system, question.code, question.language),
        title=f"{clinic}: patient handouts",
        subtitle=f"Handouts for {name} {question.code} (code system {oid}), in {language_names(question.language)[1]}",
        updated=stamp,
        language=question.language,
        author=clinic,
        base=base,
        categories=(
            (PARAM_CODE, question.code),
            (PARAM_SYSTEM, oid),
            (PARAM_LANGUAGE, question.language),
        ),
        entries=tuple(entries),
    )


def _entry(handout: ListedHandout, rank: int, question: Question, base: str | None, local_root: str) -> FeedEntry | None:
    links = _links(handout, question, base, local_root)
    if not links:
        return None
    edition = next((str(e["edition"]) for e in handout.entries if e.get("edition")), "")
    summary = [_match_sentence(rank, question)]
    if handout.language != question.language:
        summary.insert(0, f"Not available in {language_names(question.language)[1]}; this is the English handout.")
    return FeedEntry(
        id=handout_url(base, handout.language, handout.id, edition)
        if base and edition
        else _urn("entry", handout.id, handout.language, edition),
        title=handout.title,
        language=handout.language,
        summary=" ".join(summary),
        links=links,
    )


def _match_sentence(rank: int, question: Question) -> str:
    name = SYSTEM_NAMES[question.system]
    if rank == 0:
        return f"Coded {name} {question.code}."
    parent = icd10cm_lineage(question.code)[rank]
    return f"Coded {name} {parent}, a parent category of {question.code}."


def _links(handout: ListedHandout, question: Question, base: str | None, local_root: str) -> tuple[FeedLink, ...]:
    """The handout's web page and its PDFs, the first of them the entry's alternate link.

    Under the brand's base_url: the published page, as its QR code names it, and
    the copy of each PDF beside it. Without one: this server's own copies, each
    link carrying what selected it (``?via=``) for the hand-out record.
    """
    pdfs = sorted(
        (e for e in handout.entries if e.get("variant") in VARIANT_ORDER),
        key=lambda e: VARIANT_ORDER[str(e["variant"])],
    )
    page = next((e for e in handout.entries if e.get("variant") == WEB_VARIANT), None)
    links: list[FeedLink] = []
    if page is not None:
        href = handout_url(base, handout.language, handout.id) if base else _local(local_root, str(page["path"]), question)
        links.append(FeedLink(href, "alternate", "text/html", handout.title, handout.language))
    for entry in pdfs:
        path = str(entry["path"])
        if base:
            href = handout_url(base, handout.language, handout.id) + "/" + quote(Path(path).name)
        else:
            href = _local(local_root, path, question)
        pages = int(entry.get("pages") or 0)
        title = f"{VARIANT_LABELS[str(entry['variant'])]} PDF, {pages} page{'s' if pages != 1 else ''}"
        size = entry.get("bytes")
        rel = "enclosure" if links else "alternate"
        links.append(FeedLink(href, rel, "application/pdf", title, handout.language, size if isinstance(size, int) else None))
    return tuple(links)


def _local(local_root: str, path: str, question: Question) -> str:
    """This server's address of the file at ``path`` in out/, saying what selected it."""
    return local_root + quote(path) + "?" + urlencode({"via": f"{question.system}:{question.code}"})


def _urn(*parts: str) -> str:
    """A stable ``urn:uuid:`` id for a feed or an entry (Atom ids must never change for the same thing)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "handout-press:infobutton:" + ":".join(parts)).urn


# ---------------------------------------------------------------------------
# Writing the feed


def atom_bytes(feed: Feed) -> bytes:
    """The feed as an Atom document (RFC 4287), UTF-8; every text escaped by the XML writer."""
    root = ElementTree.Element("feed", {"xmlns": ATOM, XML_LANG: feed.language})
    if feed.base:
        root.set(XML_BASE, feed.base)
    _text(root, "title", feed.title, type="text")
    _text(root, "subtitle", feed.subtitle, type="text")
    author = ElementTree.SubElement(root, "author")
    _text(author, "name", feed.author)
    if feed.base:
        _text(author, "uri", feed.base)
    _text(root, "updated", feed.updated)
    for scheme, term in feed.categories:
        ElementTree.SubElement(root, "category", {"scheme": scheme, "term": term})
    _text(root, "id", feed.id)
    for entry in feed.entries:
        item = ElementTree.SubElement(root, "entry", {XML_LANG: entry.language})
        _text(item, "title", entry.title, type="text")
        for link in entry.links:
            attributes = {"href": link.href, "rel": link.rel, "type": link.type, "title": link.title, "hreflang": link.hreflang}
            if link.length is not None:
                attributes["length"] = str(link.length)
            ElementTree.SubElement(item, "link", attributes)
        _text(item, "id", entry.id)
        _text(item, "updated", feed.updated)
        _text(item, "summary", entry.summary, type="text")
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _text(parent: ElementTree.Element, tag: str, text: str, **attributes: str) -> None:
    ElementTree.SubElement(parent, tag, attributes).text = text


def json_feed(feed: Feed) -> dict[str, Any]:
    """The same feed in MedlinePlus Connect's JSON shape: element text under ``_value``, attributes as keys."""
    body: dict[str, Any] = {"lang": feed.language}
    if feed.base:
        body["base"] = feed.base
    body["title"] = {"_value": feed.title, "type": "text"}
    body["subtitle"] = {"_value": feed.subtitle, "type": "text"}
    body["author"] = {"name": {"_value": feed.author}, **({"uri": {"_value": feed.base}} if feed.base else {})}
    body["updated"] = {"_value": feed.updated}
    body["category"] = [{"scheme": scheme, "term": term} for scheme, term in feed.categories]
    body["id"] = {"_value": feed.id}
    body["entry"] = [
        {
            "lang": entry.language,
            "title": {"_value": entry.title, "type": "text"},
            "link": [_json_link(link) for link in entry.links],
            "id": {"_value": entry.id},
            "updated": {"_value": feed.updated},
            "summary": {"_value": entry.summary, "type": "text"},
        }
        for entry in feed.entries
    ]
    return {"feed": body}


def _json_link(link: FeedLink) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "title": link.title,
        "rel": link.rel,
        "type": link.type,
        "href": link.href,
        "hreflang": link.hreflang,
    }
    if link.length is not None:
        shown["length"] = link.length
    return shown


# ---------------------------------------------------------------------------
# The answer the server sends


@dataclass(frozen=True)
class Answer:
    status: int
    media_type: str
    body: bytes
    headers: dict[str, str]


def manifest_updated(out: Path) -> datetime:
    """When the build wrote ``out``'s manifest (UTC), or now when that cannot be told."""
    try:
        return datetime.fromtimestamp((out / MANIFEST).stat().st_mtime, UTC)
    except OSError:
        return datetime.now(UTC)


def answer(query: str, out: Path, local_root: str) -> Answer:
    """The response to ``GET /infobutton?<query>`` for the library built in ``out``.

    ``local_root``: this server's address with a closing slash (``http://127.0.0.1:8000/``).
    """
    updated = manifest_updated(out)  # taken first: a build that lands meanwhile is seen as newer next time
    manifest = read_manifest(out)
    languages = {str(o.get("language")) for o in manifest["outputs"] if isinstance(o, Mapping) and o.get("language")}
    try:
        question = parse_question(query, languages)
    except InfobuttonError as exc:
        line = " ".join(str(exc).split())  # one line, whatever the request held
        return Answer(400, "text/plain; charset=utf-8", (line + "\n").encode("utf-8"), {"cache-control": CACHE_CONTROL})
    feed = build_feed(question, manifest, updated, local_root)
    if question.response_type == "application/json":
        body = (json.dumps(json_feed(feed), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    else:
        body = atom_bytes(feed)
    return Answer(200, RESPONSE_TYPES[question.response_type], body, {"cache-control": CACHE_CONTROL})


def infobutton_endpoint(out: Path) -> Callable[[Any], Awaitable[Any]]:
    """`serve`'s ``GET /infobutton`` route: `answer` for the library built in ``out``, off the event loop
    (the first ICD-10-CM request reads the code set)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response

    async def infobutton(request: Any) -> Any:
        reply = await run_in_threadpool(answer, request.url.query, out, str(request.base_url))
        return Response(reply.body, status_code=reply.status, media_type=reply.media_type, headers=reply.headers)

    return infobutton


__all__ = [
    "Answer",
    "Feed",
    "FeedEntry",
    "FeedLink",
    "InfobuttonError",
    "ListedHandout",
    "Question",
    "answer",
    "atom_bytes",
    "build_feed",
    "chosen_handouts",
    "infobutton_endpoint",
    "json_feed",
    "listed_handouts",
    "manifest_updated",
    "parse_question",
]
