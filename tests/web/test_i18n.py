"""Languages: catalogs complete, the language chosen as promised, every page in German and
French without English left over, plurals, numbers and dates in the reader's notation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_skeleton
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from markupsafe import escape

from tests.factories import WHEN, make_admin, make_conflict, make_manager, make_partner_user, triage
from tracker import i18n
from tracker.domain.accounts import LOCALES
from tracker.extensions import db
from tracker.i18n import TRANSLATIONS_DIR, compile_catalogs
from tracker.services import accounts, conflicts

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = [code for code in LOCALES if code != "en"]
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with (TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def test_every_catalog_translates_every_message_and_none_is_fuzzy() -> None:
    assert compile_catalogs() == []
    for lang in LANGUAGES:
        assert (TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.mo").exists()


def test_the_catalogs_hold_every_string_marked_in_the_code(tmp_path) -> None:
    """A string wrapped in _() but never extracted would stay English on every page."""
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "--quiet", "extract", "--mapping-file", str(ROOT / "babel.cfg"),
         "--keywords", "_l", "--keywords", "N_", "--no-location",
         "--ignore-dirs", ".* __pycache__",  # the default skips _macros/
         "--output-file", str(pot), str(ROOT / "tracker"), str(ROOT / "templates")]
    )  # fmt: skip
    with pot.open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    for lang in LANGUAGES:
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(lang) if m.id}
        missing = sorted(wanted - have)
        assert not missing, f"{lang} lacks {len(missing)} messages, e.g. {missing[:5]}"


def test_the_domain_marks_words_without_importing_any_translation_machinery() -> None:
    for path in (ROOT / "tracker" / "domain").glob("*.py"):
        assert "babel" not in path.read_text(), path.name


def _english_leaks(lang: str) -> list[str]:
    """Catalog phrases (three words or more, translated differently) as they would appear
    on a page if they were left in English."""
    phrases = []
    for message in _catalog(lang):
        if not message.id or isinstance(message.id, tuple):
            continue
        if "%" in message.id or "<" in message.id or message.string == message.id:
            continue
        if len(message.id.split()) >= 3:
            phrases.append(str(escape(message.id)))
    return phrases


@pytest.fixture
def cast(app, lang):  # type: ignore[no-untyped-def]
    """One of each role and conflicts in several states, as on the demo; everyone reads
    `lang`, so what they were mailed (listed in the outbox) is in it too."""
    partner_user = make_partner_user(name="Pia Partner")
    partner_user.partner.default_locale = lang
    manager = make_manager(name="Max Manager")
    admin = make_admin(name="Ada Admin")
    manager.locale = admin.locale = lang
    open_one = make_conflict(partner_user, title="Invoice sent twice")
    triaged = make_conflict(partner_user, title="Pallets at the wrong dock")
    triage(triaged, manager)
    resolved = make_conflict(partner_user, title="Onboarding call missed")
    triage(resolved, manager)
    conflicts.act(
        manager,
        resolved.id,
        "resolve",
        {"summary": "Rebooked.", "root_cause": "capacity", "accountable_side": "us"},
        now=WHEN + timedelta(hours=2),
    )
    conflicts.comment(manager, triaged.id, "We are checking.", internal=False, now=WHEN)
    db.session.commit()
    return {
        "partner": partner_user,
        "manager": manager,
        "admin": admin,
        "conflicts": (open_one, triaged, resolved),
    }


def _pages(app, user, conflict):  # type: ignore[no-untyped-def]
    """Every GET page of the site (not the API's JSON) with this role's ids filled in."""
    ids = {
        "conflict_id": conflict.id,
        "partner_id": conflict.partner_id,
        "user_id": user.id,
    }
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        kinds = {kind for kind, _name in _ARGUMENT.findall(rule.rule)}
        if "GET" not in rule.methods or kinds - {"int"} or rule.endpoint == "static":
            continue
        if rule.rule.startswith("/api/"):
            continue  # JSON, and the API reference for developers, which stays in English
        if rule.endpoint.endswith(("_csv", "download", "attachment")):
            continue  # files, not pages
        yield adapter.build(rule.endpoint, {a: ids.get(a, 1) for a in rule.arguments})


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("role", ["partner", "manager", "admin"])
def test_every_page_speaks_the_browsers_language_with_no_english_left(
    app, browser, cast, role, lang
) -> None:
    user = cast[role]
    browser.login(user.email)
    leaks = _english_leaks(lang)
    seen = 0
    for url in _pages(app, user, cast["conflicts"][1]):
        response = browser.get(url, headers={"Accept-Language": f"{lang},en;q=0.5"})
        if response.status_code in (301, 302) or response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        if "<html" in page:  # fragments fetched by the page's script have no <html>
            assert f'<html lang="{lang}"' in page, url
        left = [phrase for phrase in leaks if phrase in page]
        assert not left, f"{url} ({role}, {lang}) still says: {left[:3]}"
        seen += 1
    assert seen >= 8


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_conflict_state_reads_in_the_language(app, browser, cast, lang) -> None:
    leaks = _english_leaks(lang)
    for role, prefix in (("partner", "/portal/conflicts"), ("manager", "/console/conflicts")):
        browser.login(cast[role].email)
        for conflict in cast["conflicts"]:
            page = browser.get(
                f"{prefix}/{conflict.id}", headers={"Accept-Language": lang}
            ).get_data(as_text=True)
            left = [phrase for phrase in leaks if phrase in page]
            assert not left, (role, conflict.status, left[:3])
        browser.post("/auth/logout")


def test_the_account_choice_beats_the_browser_and_the_browser_beats_the_partner(
    app, browser
) -> None:
    user = make_partner_user()
    user.partner.default_locale = "fr"
    db.session.commit()
    browser.login(user.email)
    assert '<html lang="fr"' in browser.get("/account/").get_data(as_text=True)  # the partner's
    page = browser.get("/account/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert '<html lang="de"' in page.get_data(as_text=True)  # the browser's
    response = browser.post(
        "/account/", {"timezone": "", "locale": "en"}, headers={"Accept-Language": "de"}
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.locale == "en"
    page = browser.get("/account/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en"' in page and "Timezone and language" in page  # their own choice


def test_an_unknown_language_is_refused_and_changes_nothing(app, browser) -> None:
    user = make_partner_user()
    browser.login(user.email)
    response = browser.post("/account/", {"timezone": "", "locale": "xx"})
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.locale is None
    with pytest.raises(accounts.InvalidInput):
        accounts.set_reading_preferences(user, timezone=None, locale="klingon")


def test_signed_out_pages_follow_the_browser(client) -> None:
    page = client.get("/auth/login", headers={"Accept-Language": "fr-CA,fr;q=0.8"})
    html = page.get_data(as_text=True)
    assert '<html lang="fr"' in html and "Se connecter" in html
    html = client.get("/auth/login", headers={"Accept-Language": "ja"}).get_data(as_text=True)
    assert '<html lang="en"' in html and "Sign in" in html


def test_an_admin_sets_a_partners_default_language(app, browser) -> None:
    admin = make_admin()
    partner_user = make_partner_user()
    browser.login(admin.email)
    partner = partner_user.partner
    response = browser.post(
        f"/admin/partners/{partner.id}/edit",
        {
            "name": partner.name,
            "tier": partner.tier,
            "timezone": partner.timezone,
            "country": partner.country or "",
            "owner_id": "",
            "sla_policy_id": "",
            "default_locale": "de",
            "active": "y",
        },
    )
    assert response.status_code == 302
    db.session.refresh(partner)
    assert partner.default_locale == "de"
    assert partner_user.mail_locale == "de"


def test_plurals_dates_and_numbers_follow_the_language(app) -> None:
    from flask_babel import force_locale, ngettext

    from tracker.web.templating import decimal, localtime, working_time

    with app.test_request_context("/"):
        for count, de, fr in ((1, "1 offenen Konflikt", "1 conflit ouvert"),
                              (3, "3 offene Konflikte", "3 conflits ouverts")):  # fmt: skip
            with force_locale("de"):
                text = ngettext("Re-apply to %(num)d open conflict",
                                "Re-apply to %(num)d open conflicts", count)  # fmt: skip
                assert de in text
            with force_locale("fr"):
                text = ngettext("Re-apply to %(num)d open conflict",
                                "Re-apply to %(num)d open conflicts", count)  # fmt: skip
                assert fr in text
        with force_locale("de"):
            assert working_time(timedelta(hours=16), timedelta(hours=8)) == "2 Arbeitstage"
            assert working_time(timedelta(hours=8), timedelta(hours=8)) == "1 Arbeitstag"
            assert decimal(1.5) == "1,5"
            assert localtime(WHEN, tz="Europe/Berlin").startswith(("Mo.", "Di.", "Mi.", "Do."))
            assert "Dez." in localtime(WHEN.replace(month=12), tz="Europe/Berlin")
        with force_locale("fr"):
            assert working_time(timedelta(hours=3), timedelta(hours=8)) == "3 heures ouvrées"
            assert decimal(1234.5) == "1\u202f234,5"
        with force_locale("en"):
            assert decimal(1.5) == "1.5"


def test_the_api_answers_problems_in_the_clients_language(app, client) -> None:
    response = client.get("/api/v1/conflicts", headers={"Accept-Language": "de"})
    body = response.get_json()
    assert response.status_code == 401
    assert body["title"] == "Nicht autorisiert"
    english = client.get("/api/v1/conflicts").get_json()
    assert english["title"] == "Unauthorized"
    missing = client.get("/api/v1/nowhere", headers={"Accept-Language": "fr"}).get_json()
    assert missing["title"] == "Introuvable"
    assert "Il n'y a rien" in missing["detail"]


def test_mail_is_written_in_each_recipients_language_not_the_senders(app) -> None:
    from sqlalchemy import select

    from tracker.models import MailNotice

    german = make_partner_user(name="Greta")
    german.locale = "de"
    french = make_partner_user(partner=german.partner, name="Francine")
    french.locale = "fr"
    manager = make_manager()
    conflict = make_conflict(german)
    triage(conflict, manager)
    db.session.commit()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        conflicts.comment(manager, conflict.id, "Checked.", internal=False, now=WHEN)
    subjects = {
        notice.recipient_id: notice.subject
        for notice in db.session.scalars(select(MailNotice).where(MailNotice.kind == "reply"))
    }
    assert subjects[german.id].startswith("Antwort Ihres Allianzteams")
    assert subjects[french.id].startswith("Réponse de votre équipe d'alliance")


# Around both 2026 changes of Berlin's clocks, a New York evening, a midnight and a far date.
_INSTANTS = [
    datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    datetime(2026, 12, 2, 23, 5, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
]  # fmt: skip


@pytest.mark.parametrize("lang", LANGUAGES)
def test_local_times_are_babels_skeletons_with_the_patterns_looked_up_once(app, lang) -> None:
    """format_local keeps each (shape, language)'s parsed pattern: the text is the one
    babel's format_skeleton writes for every shape, zone and instant."""
    with app.test_request_context(headers={"Accept-Language": lang}):
        for fmt, (skeleton, with_time) in i18n._SKELETONS.items():
            for zone in ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"):
                for value in _INSTANTS:
                    try:
                        local = value.astimezone(ZoneInfo(zone))
                    except OverflowError:
                        local = value
                    expected = format_skeleton(skeleton, local, tzinfo=local.tzinfo, locale=lang)
                    if with_time:
                        hm = format_skeleton("Hm", local, tzinfo=local.tzinfo, locale=lang)
                        expected += " " + hm
                    assert i18n.format_local(value, zone, fmt) == f"{expected} {local.tzname()}"


def test_template_gettext_escapes_and_formats_as_jinjas_newstyle_gettext(app) -> None:
    """`_`, ngettext and {% trans %} are called directly (tracker.i18n._template_gettext):
    variables escaped in HTML, not in text templates, any variable name, the pinned
    language's catalog."""
    env = app.jinja_env
    html = "{% autoescape true %}{{ _('Times in %(zone)s.', zone=z) }}|{{ ngettext('%(num)d working day', '%(num)d working days', n) }}|{% trans when=z %}Due <strong>{{ when }}</strong>{% endtrans %}|{{ _('%(message)s %(string)s', message=z, string='&') }}{% endautoescape %}"  # noqa: E501
    text = "{% autoescape false %}{{ _('Times in %(zone)s.', zone=z) }}{% endautoescape %}"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert env.from_string(html).render(z="<b>", n=2) == (
            "Times in &lt;b&gt;.|2 working days|Due <strong>&lt;b&gt;</strong>|&lt;b&gt; &amp;"
        )
        assert env.from_string(text).render(z="<b>") == "Times in <b>."
        with i18n.speaking("de"):
            german = env.from_string(text).render(z="UTC")
    assert german == i18n_text("de", "Times in %(zone)s.") % {"zone": "UTC"}
    assert german != "Times in UTC."


def i18n_text(lang: str, message: str) -> str:
    catalog = _catalog(lang)
    return catalog[message].string
