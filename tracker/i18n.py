"""Languages: which one a request is answered in, and the compiled catalogs it reads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.dates import DateTimePattern, match_skeleton, parse_pattern
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations
from flask import Flask, has_request_context, request
from flask.globals import _cv_app
from flask_babel import force_locale, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from tracker.domain.accounts import DEFAULT_LOCALE, LOCALES, preferred_locale

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

# (language, catalog) pinned by `speaking` for a run of renders in one language.
_pinned: ContextVar[tuple[str, NullTranslations] | None] = ContextVar(
    "pinned_catalog", default=None
)


class IncompleteCatalog(RuntimeError):
    """A catalog has a message without translation, or a fuzzy one: pages would mix languages."""


def select_locale() -> str:
    """The Account page's choice, else the browser's Accept-Language, else the partner's, else en.

    The API has no Account page in its answers' way: it follows Accept-Language only.
    """
    if not has_request_context():
        return DEFAULT_LOCALE
    browser = request.accept_languages.best_match(tuple(LOCALES))
    if request.path.startswith("/api/"):
        return preferred_locale(None, browser, None)
    user = current_user if getattr(current_user, "is_authenticated", False) else None
    return preferred_locale(
        user.locale if user else None,
        browser,
        user.partner.default_locale if user and user.partner else None,
    )


def select_timezone() -> str:
    """Dates and times format in the viewer's zone (UTC when signed out)."""
    if has_request_context() and getattr(current_user, "is_authenticated", False):
        return current_user.display_timezone
    return "UTC"


# English keeps its strftime shapes; other languages get CLDR's order and month names.
_SKELETONS: dict[str, tuple[str, bool]] = {
    "%a %d %b %Y %H:%M": ("yMMMEd", True),
    "%a %d %b %Y, %H:%M": ("yMMMEd", True),
    "%a %d %b %Y": ("yMMMEd", False),
    "%a %d %b %H:%M": ("MMMEd", True),
    "%a %H:%M": ("E", True),
    "%d %b %Y": ("yMMMd", False),
}


@lru_cache(maxsize=64)
def _patterns(fmt: str, locale: str) -> tuple[Locale, DateTimePattern, DateTimePattern | None]:
    """What babel's format_skeleton looks up on every call (the locale's data, the closest
    skeleton, its parsed pattern), once per shape and language: a list of 25 rows or a
    timeline of 50 entries in German formatted each date about four times slower than in
    English."""
    parsed = Locale.parse(locale)
    skeletons = parsed.datetime_skeletons

    def pattern(skeleton: str) -> DateTimePattern:
        if skeleton not in skeletons:  # format_skeleton's fuzzy match
            skeleton = match_skeleton(skeleton, skeletons) or skeleton
        return parse_pattern(skeletons[skeleton])

    date_skeleton, with_time = _SKELETONS[fmt]
    return parsed, pattern(date_skeleton), pattern("Hm") if with_time else None


def format_local(value: datetime, timezone: str, fmt: str = "%a %d %b %Y %H:%M") -> str:
    """An aware instant on the reader's clock, in the current language, with the zone's name.

    `fmt` is one of the strftime shapes the pages use; other languages get the same fields
    in their own order and words ("Mi., 2. Dez. 2026 15:05 CET").
    """
    try:
        local = value.astimezone(ZoneInfo(timezone))
    except OverflowError:  # far-future dates (year 9999) cannot shift into some zones
        local = value
    locale = current_locale()
    if locale == DEFAULT_LOCALE or fmt not in _SKELETONS:
        return f"{local.strftime(fmt)} {local.tzname()}"
    parsed, date_pattern, time_pattern = _patterns(fmt, locale)
    text = date_pattern.apply(local, parsed)
    if time_pattern is not None:
        text += " " + time_pattern.apply(local, parsed)
    return f"{text} {local.tzname()}"


@contextmanager
def speaking(locale: str) -> Iterator[None]:
    """Everything inside is in `locale` (Flask-Babel's force_locale), with its catalog looked
    up once: a sweep renders hundreds of notices, and each message id looked up through
    Flask-Babel's context proxies cost more than the rest of the template. Use it instead
    of force_locale, so that the pinned catalog and Flask-Babel's locale never disagree."""
    with force_locale(locale):
        token = _pinned.set((locale, get_translations()))
        try:
            yield
        finally:
            _pinned.reset(token)


def current_locale() -> str:
    """The language being spoken: the pinned one, else the request's (en outside requests)."""
    pinned = _pinned.get()
    if pinned is not None:
        return pinned[0]
    return str(get_locale() or DEFAULT_LOCALE)


def catalog() -> NullTranslations:
    """The catalog of the current language."""
    pinned = _pinned.get()
    return pinned[1] if pinned is not None else _request_catalog()


def gettext(message: str, **variables: object) -> str:
    """Flask-Babel's gettext, through the pinned catalog when there is one."""
    text = catalog().ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: object) -> str:
    """Flask-Babel's ngettext (`num` is available as %(num)d), through the pinned catalog."""
    variables.setdefault("num", num)
    text = catalog().ungettext(singular, plural, num)
    return text % variables


def init_app(app: Flask) -> None:
    """Bind Flask-Babel; the catalogs are compiled once per process when missing or stale.

    Templates translate through `catalog()` too, so a pinned language serves them as well.
    """
    from tracker.extensions import babel

    compile_catalogs(check=False)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # `_`, gettext and ngettext (the {% trans %} blocks' too) called directly.
    app.jinja_env.globals.update(
        _=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext
    )


# Jinja's newstyle gettext, the same escaping and formatting, without its hops: `_` looked
# up "gettext" in the context and called it, which called the catalog's, each through
# Context.call (a check of how to pass the context each): about 70 messages a page.
@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, message: str, /, **variables: object) -> str:
    text = catalog().ugettext(message)
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704  (the catalog's text; the variables get escaped)
    return text % variables


@pass_eval_context
def _template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: object
) -> str:
    variables.setdefault("num", num)
    text = catalog().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704  (as above)
    return text % variables


def _request_catalog() -> NullTranslations:
    """The request's catalog, looked up once per locale rather than once per string: a list
    page translates hundreds of labels, and Flask-Babel walks its context proxies each time.
    Keyed on the locale object, so `force_locale` (a notice in its reader's language) still
    gets its own."""
    app_context = _cv_app.get(None)
    space = getattr(app_context.g, "_flask_babel", None) if app_context is not None else None
    cached = getattr(space, "tracker_translations", None)
    if cached is not None and cached[0] is getattr(space, "babel_locale", None):
        return cached[1]
    translations = get_translations()
    space = getattr(app_context.g, "_flask_babel", None) if app_context is not None else None
    locale = getattr(space, "babel_locale", None)
    if locale is not None:
        space.tracker_translations = (locale, translations)
    return translations


def compile_catalogs(*, check: bool = True, strict: bool = False) -> list[str]:
    """Write each messages.mo that is older than its .po; `strict` refuses incomplete catalogs.

    Returns the problems found (untranslated or fuzzy messages), one line each; without
    `check`, an up-to-date catalog is not even read (app start-up, many times in the tests).
    """
    problems: list[str] = []
    for po_path in sorted(TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po")):
        locale = po_path.parent.parent.name
        mo_path = po_path.with_suffix(".mo")
        stale = not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime
        if not (check or stale):
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.fuzzy or not all(strings):
                problems.append(f"{locale}: {message.id!r} is untranslated or fuzzy")
        if stale:
            # Written aside and renamed: workers starting together never read half a file.
            partial = mo_path.with_name(f".{mo_path.name}.{os.getpid()}")
            try:
                with partial.open("wb") as handle:
                    write_mo(handle, catalog)
                os.replace(partial, mo_path)
            except OSError as exc:  # a read-only install: `make i18n-compile` at build time
                problems.append(f"{locale}: cannot write {mo_path.name} ({exc.strerror})")
    if strict and problems:
        raise IncompleteCatalog("\n".join(problems))
    return problems


class LazyText:
    """A message translated when it is shown, in that request's language (form labels).

    Unlike flask_babel's LazyString it does not claim to be markup (no __html__), so Jinja
    and WTForms escape it like any other text.
    """

    __slots__ = ("_message", "_variables")

    def __init__(self, message: str, **variables: object) -> None:
        self._message = message
        self._variables = variables

    def __str__(self) -> str:
        return gettext(self._message, **self._variables)

    def __repr__(self) -> str:
        return f"LazyText({self._message!r})"

    def __getattr__(self, name: str) -> object:
        return getattr(str(self), name)

    def __len__(self) -> int:
        return len(str(self))

    def __eq__(self, other: object) -> bool:
        return str(self) == (str(other) if isinstance(other, LazyText) else other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __lt__(self, other: object) -> bool:
        return str(self) < str(other)

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __getitem__(self, index: int | slice) -> str:
        return str(self)[index]

    def __mod__(self, values: object) -> str:
        return str(self) % values

    def __add__(self, other: str) -> str:
        return str(self) + str(other)

    def __radd__(self, other: str) -> str:
        return str(other) + str(self)


def lazy_text(message: str, **variables: object) -> LazyText:
    """Mark `message` for the catalog; it is translated each time it is turned into text."""
    return LazyText(message, **variables)
