"""The notice renderer: sandboxed Jinja2 templates to text and HTML, HTML to PDF and DOCX.

Templates come from the agency's own folder (`<Agency.folder>/notices/`) first, then the
project's `notices/`; the defaults are also reachable as `base/NAME` so an override can
extend the template it replaces. Agencies edit their templates, so they run in a
`SandboxedEnvironment` (no Python internals) with `StrictUndefined` (a missing value is an
error, never a blank in a legal letter). HTML is autoescaped, text is not.

The PDF is WeasyPrint from the stored HTML, with the installed Noto CJK font embedded; the
DOCX is built with python-docx from the same HTML (text runs are escaped by the library).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from foi_workflow.domain.vocabulary import chinese_date
from foi_workflow.errors import TemplateError
from foi_workflow.resources import NOTICES_DIR

BASE_PREFIX = "base"


def cn_date(value: object) -> str:
    """2024年3月1日 (no zero padding), the form dates take in letters."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises the precise "'x' is undefined" error
    if not isinstance(value, date):
        raise TemplateError(f"日期值缺失或格式错误：{value!r}")
    return chinese_date(value)


def yuan(value: object) -> str:
    """An amount of money: 83,460 or 12.50."""
    if isinstance(value, jinja2.Undefined):
        str(value)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise TemplateError(f"金额缺失或格式错误：{value!r}")
    amount = Decimal(str(value))
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"


_SENTENCE_ENDS = tuple("。！？；….!?;")


def sentence(value: object) -> str:
    """The text as a sentence: a full stop (。) added unless it already ends with punctuation."""
    text = str(value).rstrip()
    return text if not text or text.endswith(_SENTENCE_ENDS) else text + "。"


@dataclass(frozen=True)
class TemplateSource:
    name: str
    source: str
    override: bool  # came from the agency's folder


# The filters a template may use (notices/_wording.j2 lists them); `cndate` is an older name of `date`.
FILTERS: dict[str, Callable[..., str]] = {"date": cn_date, "cndate": cn_date, "yuan": yuan, "sentence": sentence}


def _environment(loader: jinja2.BaseLoader, *, autoescape: bool) -> SandboxedEnvironment:
    # Jinja's default drops a template's final newline: a letter's text ends where its last line does.
    env = SandboxedEnvironment(loader=loader, undefined=jinja2.StrictUndefined, autoescape=autoescape, auto_reload=True)
    env.filters.update(FILTERS)
    return env


def is_html_template(name: str) -> bool:
    return name.endswith((".html.j2", ".html"))


@dataclass
class NoticeRenderer:
    """The sandboxed environments for one template search path (agency folder + defaults).

    Two environments share the loader: an HTML letter is rendered with autoescape on for
    every template it uses (the shared wording macros included: a macro compiled without
    escaping would hand raw applicant text to the HTML), a text letter with it off.
    """

    override_dir: Path | None = None
    defaults_dir: Path = NOTICES_DIR
    text_env: SandboxedEnvironment = field(init=False, repr=False)
    html_env: SandboxedEnvironment = field(init=False, repr=False)
    _refs: dict[tuple[str, str], tuple[str, ...]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        defaults = jinja2.FileSystemLoader(str(self.defaults_dir), encoding="utf-8")
        loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({BASE_PREFIX: defaults})]
        if self.override_dir is not None:
            loaders.append(jinja2.FileSystemLoader(str(self.override_dir), encoding="utf-8"))
        loaders.append(defaults)
        loader = jinja2.ChoiceLoader(loaders)
        self.text_env = _environment(loader, autoescape=False)
        self.html_env = _environment(loader, autoescape=True)

    def env_for(self, name: str) -> SandboxedEnvironment:
        return self.html_env if is_html_template(name) else self.text_env

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render template `name`; every failure (missing value, unsafe access, bad syntax) is a TemplateError."""
        try:
            return self.env_for(name).get_template(name).render(**context)
        except TemplateError:
            raise
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"找不到告知书模板 {exc.name}") from exc
        except SecurityError as exc:
            raise TemplateError(f"模板 {name} 试图访问不允许的内容：{exc}") from exc
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"模板 {name} 需要的值缺失：{exc.message}") from exc
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"模板 {exc.name or name} 第{exc.lineno}行语法错误：{exc.message}") from exc
        except Exception as exc:  # a template is user code: any other failure is its fault
            raise TemplateError(f"模板 {name} 渲染失败：{type(exc).__name__}: {exc}") from exc

    def _source(self, name: str) -> TemplateSource:
        env = self.text_env
        assert env.loader is not None
        try:
            source, filename, _ = env.loader.get_source(env, name)
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"找不到告知书模板 {exc.name}") from exc
        override = (
            self.override_dir is not None
            and filename is not None
            and Path(filename).resolve().is_relative_to(self.override_dir.resolve())
        )
        return TemplateSource(name, source, bool(override))

    def sources(self, names: Iterable[str]) -> list[TemplateSource]:
        """The templates `names` and everything they extend, import or include (static names)."""
        seen: dict[str, TemplateSource] = {}
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            found = self._source(name)
            seen[name] = found
            todo.extend(self._references(found))
        return [seen[n] for n in sorted(seen)]

    def _references(self, found: TemplateSource) -> tuple[str, ...]:
        key = (found.name, found.source)
        refs = self._refs.get(key)
        if refs is None:  # parsing is the slow part of issuing a letter: once per source text
            try:
                parsed = self.text_env.parse(found.source, name=found.name)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(f"模板 {found.name} 第{exc.lineno}行语法错误：{exc.message}") from exc
            refs = tuple(ref for ref in meta.find_referenced_templates(parsed) if ref is not None)
            self._refs[key] = refs
        return refs

    def template_hash(self, names: Iterable[str]) -> str:
        """sha256 over the sources of every template a rendering of `names` used."""
        digest = hashlib.sha256()
        for found in self.sources(names):
            digest.update(found.name.encode("utf-8") + b"\0")
            digest.update(found.source.encode("utf-8") + b"\0")
        return digest.hexdigest()


@lru_cache(maxsize=64)
def _renderer(override_dir: Path | None, defaults_dir: Path) -> NoticeRenderer:
    return NoticeRenderer(override_dir=override_dir, defaults_dir=defaults_dir)


def renderer_for(agency_folder: Path | None, defaults_dir: Path = NOTICES_DIR) -> NoticeRenderer:
    """The (cached) renderer for an agency whose config folder is `agency_folder`."""
    override = agency_folder / "notices" if agency_folder is not None else None
    if override is not None and not override.is_dir():
        override = None
    return _renderer(override, defaults_dir)


# ── PDF ────────────────────────────────────────────────────────────────────────────────

_PDF_LOCK = threading.Lock()
# Fallback so a letter whose override names no CJK font still prints its Chinese.
_PDF_FALLBACK_CSS = 'html { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; }'


def _local_fetcher(roots: Sequence[Path]) -> Any:
    """A URL fetcher for the letter's images and stylesheets: `data:` URLs and files inside
    `roots` (the template folders, e.g. a seal or logo beside an agency's templates) only, so
    a template cannot pull other local files or anything from the network into a PDF."""
    from urllib.parse import unquote, urlparse

    from weasyprint.urls import URLFetcher

    allowed = [root.resolve() for root in roots]

    class LocalFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.lower().startswith("file:"):
                path = Path(unquote(urlparse(url).path)).resolve()
                if not any(path.is_relative_to(root) for root in allowed):
                    raise ValueError(f"告知书模板不能引用模板目录以外的文件：{path}")
            return super().fetch(url, headers)

    return LocalFetcher(allowed_protocols=("file", "data"), fail_on_errors=False)


def html_to_pdf(html: str, *, resource_dirs: Sequence[Path] = ()) -> bytes:
    """A4 PDF of a letter; the CJK font is embedded (subset) by WeasyPrint. Images and
    stylesheets may come from the project's notices/ and `resource_dirs` only."""
    import weasyprint

    roots = [NOTICES_DIR, *resource_dirs]
    with _PDF_LOCK:  # WeasyPrint/Pango are not safe to drive from two threads at once
        fetcher = _local_fetcher(roots)
        document = weasyprint.HTML(string=html, base_url=str(NOTICES_DIR) + "/", url_fetcher=fetcher)
        fallback = weasyprint.CSS(string=_PDF_FALLBACK_CSS)
        pdf = document.write_pdf(stylesheets=[fallback])
    assert isinstance(pdf, bytes)
    return pdf


# ── DOCX ───────────────────────────────────────────────────────────────────────────────

_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "li", "td", "th", "div", "pre", "blockquote"})
_SKIP = frozenset({"head", "style", "script", "title"})


@dataclass
class _Block:
    tag: str
    classes: frozenset[str]
    text: list[str] = field(default_factory=list)


class _LetterParser(HTMLParser):
    """Flattens the letter HTML into blocks of text, each remembering its tag and the classes of
    its enclosing elements (title, number, addressee, body, signature, contact)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self._stack: list[tuple[str, frozenset[str]]] = []
        self._skip = 0
        self._current: _Block | None = None

    def _classes(self) -> frozenset[str]:
        out: set[str] = set()
        for _, classes in self._stack:
            out |= classes
        return frozenset(out)

    def _flush(self) -> None:
        if self._current is not None and "".join(self._current.text).strip():
            self.blocks.append(self._current)
        self._current = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
            return
        if tag == "br":
            if self._current is not None:
                self._current.text.append("\n")
            return
        classes = frozenset((dict(attrs).get("class") or "").split())
        self._stack.append((tag, classes))
        if tag in _BLOCKS:
            self._flush()
            self._current = _Block(tag, self._classes())

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if tag in _BLOCKS:
            self._flush()
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._current is None:
            if not data.strip():
                return
            self._current = _Block("p", self._classes())
        self._current.text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_docx(html: str, *, title: str = "") -> bytes:
    """An editable Word letter with the parts of the HTML letter, in the same order."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    from foi_workflow.adapters.word import set_east_asian_font

    parser = _LetterParser()
    parser.feed(html)
    parser.close()

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(30), Mm(28)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(14)
    set_east_asian_font(normal, "仿宋")
    normal.paragraph_format.line_spacing = 1.5
    normal.paragraph_format.space_after = Pt(0)
    if title:
        document.core_properties.title = title

    for block in parser.blocks:
        text = " ".join(part.strip() for part in "".join(block.text).split("\n") if part.strip())
        paragraph = document.add_paragraph()
        run = paragraph.add_run(text)
        classes = block.classes
        fmt = paragraph.paragraph_format
        if "title" in classes or block.tag == "h1":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.bold = True
            run.font.size = Pt(20)
            set_east_asian_font(run, "宋体")
        elif "agency" in classes or "number" in classes:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif "signature" in classes:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if "seal" in classes:
                fmt.space_before = Pt(24)
        elif "contact" in classes:
            run.font.size = Pt(10.5)
        elif "addressee" not in classes:
            fmt.first_line_indent = Pt(28)  # two characters
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
