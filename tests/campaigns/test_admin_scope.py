"""An approved caller never reaches or sees anything of a campaign they are not approved for: the admin walker.

Every URL of the admin (every registered ModelAdmin's list, add, change, history and delete pages, Django's
redirects, and every custom URL of each ``get_urls()``: Account Details, each workflow, Record a call, Meeting
outcome, exports, imports, progress pages; the site's index, app lists, autocomplete, "view on site") is found
from the URL conf (``admin_walking.admin_routes``), walked with GET and POST as Amy, approved for one campaign,
with the ids of what she may not see: the same customer's other campaign and another customer's (and as a
caller approved for nothing, with the ids of everything). Each answer is 403 or 404 for a page of such an
object, and no answer anywhere shows a name, number, email, note or campaign of theirs, not even the pages of
Amy's own rows (a number she shares with them, its blocks). A pattern the walk does not know how to fill fails
the test, as does one it did not walk.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.test import Client

from campaigns.imports.models import FitRule, LeadImport
from campaigns.models import Block, Call, CallerApproval, Contact, Lead, Meeting, PhoneNumber, UndoRequest, User
from campaigns.selectors.scope import is_scoped, visible
from leadops.outbox.models import Message
from suppressions.crm.models import CrmEvent, CrmMatch, CrmRecord, CrmRuleChange
from tests.campaigns.admin_walking import AdminRoute, action_names, admin_routes, related_filter_params
from tests.campaigns.api_factories import api_key_for, disposition
from tests.campaigns.caller_scenes import CallerScene, caller_scene, leaks, member_of
from tests.campaigns.factories import UserFactory
from tests.crm.factories import CrmConnectionFactory, CrmRuleFactory
from tests.suppressions.factories import EntryFactory, UploadFactory

pytestmark = pytest.mark.django_db

# Path parameters that name one object of the route's model.
OBJECT_PARAMS = {"object_id", "pk", "upload_id", "id"}
# Path parameters that name a row of another model than the admin's own: the ids tried are that model's.
RELATED_PARAMS = {"lead_id": Lead}
# What a page of an object Amy may not see answers.
REFUSED = {403, 404}
# What any other page may answer (a list without those rows, a form, a redirect, a refusal).
ANSWERED = {200, 302, 400, 403, 404, 405}
# Words a search or the autocomplete is asked with: beginnings of what Amy must not see (the page may repeat them).
SEARCHES = ["Quen", "Zeph", "Hidd", "Glob", "Obsc", "Xen", "+1310555", "Zimm"]
IDS_PER_MODEL = 4
# The id tried for a model with no row at all (axes' logs): Django's pages answer "doesn't exist" with a redirect.
NO_SUCH_ROW = 999_999


def everything_else(scene: CallerScene) -> None:
    """Give the other customer a row of every kind the admin lists: uploads, entries, CRM, imports, fit rules, keys."""
    other = scene.other_customer
    upload = UploadFactory(customer=other, original_name="globex-zeta-list.csv")
    EntryFactory(customer=other, upload=upload, value=scene.quincys_line.e164)
    connection = CrmConnectionFactory(customer=other, name="Globex Zeta HubSpot")
    rule = CrmRuleFactory(customer=other, name="Globex Zeta rule")
    record = CrmRecord.objects.create(
        connection=connection, customer=other, object_type="company", external_id="zeta-1", name="Quuxberg Holdings"
    )
    CrmEvent.objects.create(connection=connection, event_id="zeta-event", payload={"name": "Quuxberg Holdings"})
    CrmMatch.objects.create(rule=rule, record=record)
    LeadImport.objects.create(
        campaign=scene.theirs,
        original_name="zephyr-leads.csv",
        file=ContentFile(b"first_name,phone\nQuincy,+13105559871\n", name="zephyr-leads.csv"),
        status=LeadImport.Status.DONE,
    )
    FitRule.objects.create(
        campaign=scene.theirs, field=FitRule.Field.EMPLOYEES, operator=FitRule.Operator.BETWEEN, minimum=50
    )
    api_key_for(customer=other)
    Message.objects.create(task="tests.zeta", args=["Quincy Zimmerwald"])
    # Self-service: the other customer's rule change and its request to lift a block on Quincy's lead.
    CrmRuleChange.objects.create(rule=rule, actor_job="tests", after={"name": "Globex Zeta rule"})
    UndoRequest.objects.create(
        customer=other,
        lead=scene.quincy,
        block=Block.objects.filter(customer=other).order_by("pk").first() or Block.objects.order_by("pk").first(),
        sentence="Quincy Zimmerwald is disqualified for Globex Zeta",
        reason="Quincy Zimmerwald is no customer of ours",
        requested_by=UserFactory(username="zeta-portal-user", customer=other, is_staff=False),
    )


def hidden_ids(model, user: User) -> list[object]:
    """Return ids of ``model``'s rows ``user`` may not see (a made-up one when there is none)."""
    rows = model._default_manager.all()
    if is_scoped(model):
        rows = rows.exclude(pk__in=visible(model._default_manager.all(), user).values("pk"))
    ids = list(rows.order_by("-pk").values_list("pk", flat=True)[:IDS_PER_MODEL])
    return ids or [NO_SUCH_ROW]


def shown_ids(model, user: User) -> list[object]:
    """Return ids of ``model``'s rows ``user`` may see: their pages must not show what is not theirs either."""
    if not is_scoped(model):
        return []
    return list(
        visible(model._default_manager.all(), user).order_by("-pk").values_list("pk", flat=True)[:IDS_PER_MODEL]
    )


def state() -> dict[str, object]:
    """What a walk must leave as it was."""
    return {
        "blocks": sorted(Block.objects.values_list("pk", "lifted_at")),
        "leads": sorted(Lead.objects.values_list("pk", "status", "leased_to", "priority")),
        "approvals": sorted(CallerApproval.objects.values_list("pk", "revoked_at")),
        "calls": Call.objects.count(),
        "meetings": sorted(Meeting.objects.values_list("pk", "outcome")),
        "contacts": sorted(Contact.objects.values_list("pk", "first_name", "last_name")),
        "numbers": PhoneNumber.objects.count(),
        "log": LogEntry.objects.count(),
        "undo_requests": sorted(UndoRequest.objects.values_list("pk", "state")),
        "rule_changes": CrmRuleChange.objects.count(),
    }


class Walk:
    """One walk as a signed-in user, checking each answer as it goes."""

    def __init__(self, client: Client, scene: CallerScene, user: User, secrets: list[str]):
        self.client = client
        self.scene = scene
        self.user = user
        self.secrets = secrets
        self.walked: set[str] = set()
        self.requests = 0

    def answer(
        self, method: str, url: str, data=None, *, expected: set[int], echoed: str = "", follow: bool = True
    ) -> None:
        self.client.force_login(self.user)  # a walked logout signs them out
        response = self.client.get(url, data, follow=follow) if method == "get" else self.client.post(url, data or {})
        self.requests += 1
        body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
        text = body.decode("utf-8", "replace")
        if echoed:
            text = text.replace(echoed, "")
        found = leaks(text, self.secrets)
        assert not found, f"{method.upper()} {url} {data or ''} shows {found}"
        assert response.status_code in expected, f"{method.upper()} {url} {data or ''} answered {response.status_code}"

    def post_data(self) -> dict[str, object]:
        """A POST that every form of the admin might read, full of ids Amy may not see."""
        s = self.scene
        return {
            "post": "yes",
            "reason": "walker",
            "note": "walker",
            "notes": "walker",
            "disposition": disposition(s.sibling, "do_not_call").pk,
            "number": s.quentins_line.e164,
            "outcome": "qualified",
            "meeting": Meeting.objects.values_list("pk", flat=True).first() or 1,
            "reach": "platform",
            "previewed": "platform",
            "campaign": s.sibling.pk,
            "customer": s.other_customer.pk,
            "name": "walker",
            "first_name": "walker",
            "confirm": "1",
        }

    def route(self, route: AdminRoute) -> None:
        params = set(route.params)
        model_admin = route.model_admin
        self.walked.add(route.route)
        if route.prefix == "":
            return self.site_route(route)
        model = model_admin.model
        unknown = params - OBJECT_PARAMS - set(RELATED_PARAMS) - {"action"}
        assert not unknown, f"{route.route}: tell the walker which ids to try in {sorted(unknown)}."
        (related,) = [RELATED_PARAMS[p] for p in params & set(RELATED_PARAMS)] or [model]
        ids = hidden_ids(related, self.user)
        shown = shown_ids(related, self.user)
        if "action" in params:
            # A workflow started from a link: ``workflow/<action>/?ids=…``.
            for action in action_names(model_admin):
                for chosen in [ids, *([i] for i in ids)]:
                    query = {"ids": ",".join(str(i) for i in chosen)}
                    self.answer("get", route.url({"action": action}, query), expected=REFUSED)
                    self.answer("post", route.url({"action": action}, query), self.post_data(), expected=REFUSED)
                # Of the caller's own rows: the confirmation page (or a refusal), never another campaign's words.
                for pk in shown:
                    self.answer("get", route.url({"action": action}, {"ids": pk}), expected={200, 403})
            return None
        if params & (OBJECT_PARAMS | set(RELATED_PARAMS)):
            (param,) = params & (OBJECT_PARAMS | set(RELATED_PARAMS))
            for pk in ids:
                url = route.url({param: pk})
                if pk == NO_SUCH_ROW:
                    self.answer("get", url, expected=REFUSED | {302}, follow=False)
                else:
                    self.answer("get", url, expected=REFUSED)
                # Django's ``<object_id>/`` redirect answers a POST with a redirect to the change page.
                redirects = route.name is None or pk == NO_SUCH_ROW
                self.answer("post", url, self.post_data(), expected=REFUSED | ({302} if redirects else set()))
            # The caller's own rows' pages (read only: a GET changes nothing) show nothing of other campaigns either.
            for pk in shown:
                self.answer("get", route.url({param: pk}), expected={200, 403})
            return None
        self.answer("get", route.url({}), expected=ANSWERED)
        self.answer("post", route.url({}), self.post_data(), expected=ANSWERED)
        if route.name and route.name.endswith("_changelist"):
            self.changelist(route, model_admin, ids)
        return None

    def changelist(self, route: AdminRoute, model_admin, ids: list[object]) -> None:
        """A list page searched, filtered by ids of hidden rows, and its actions posted with them."""
        for term in SEARCHES:
            self.answer("get", route.url({}, {"q": term}), expected=ANSWERED, echoed=term)
        for param, related in related_filter_params(model_admin):
            for pk in hidden_ids(related, self.user):
                self.answer("get", route.url({}, {param: pk}), expected=ANSWERED)
        for action in action_names(model_admin):
            for confirmed in ({}, self.post_data()):
                data = {"action": action, "_selected_action": ids, "index": "0", **confirmed}
                self.answer("post", route.url({}), data, expected={302, 403, 404})

    def site_route(self, route: AdminRoute) -> None:
        params = set(route.params)
        if params == {"content_type_id", "object_id"}:
            for model in admin.site._registry:
                content_type = ContentType.objects.get_for_model(model)
                for pk in hidden_ids(model, self.user)[:1]:
                    url = route.url({"content_type_id": content_type.pk, "object_id": pk})
                    self.answer("get", url, expected=REFUSED)
        elif params == {"app_label"}:
            for app_label in sorted({m._meta.app_label for m in admin.site._registry}):
                self.answer("get", route.url({"app_label": app_label}), expected=ANSWERED)
        elif params == {"url"}:
            lead = hidden_ids(Lead, self.user)[0]
            for rest in (f"campaigns/lead/{lead}/no-such-page/", "no-such-app/"):
                self.answer("get", route.url({"url": rest}), expected={404})
        elif route.name == "autocomplete":
            self.autocomplete(route)
        else:
            assert not params, f"{route.route}: tell the walker which values to try in {sorted(params)}."
            self.answer("get", route.url({}), expected=ANSWERED)
            if route.name not in {"logout", "login"}:
                self.answer("post", route.url({}), self.post_data(), expected=ANSWERED)

    def autocomplete(self, route: AdminRoute) -> None:
        """Every autocomplete field of every ModelAdmin, asked for everything and for the hidden rows' names."""
        for model, model_admin in admin.site._registry.items():
            for field_name in model_admin.get_autocomplete_fields(None):
                for term in ["", *SEARCHES]:
                    query = {
                        "app_label": model._meta.app_label,
                        "model_name": model._meta.model_name,
                        "field_name": field_name,
                        "term": term,
                    }
                    self.answer("get", route.url({}, query), expected={200, 403}, echoed=term)


@pytest.fixture
def scene():
    scene = caller_scene()
    everything_else(scene)
    return scene


# Amy's own campaign, account and people: what a caller approved for nothing must not see either.
AMYS = ["Clinic outreach Q3", "Riverside Family Clinic", "Maria", "Lopez", "Becker", "+1 646-555-0188", "Acme Clinics"]


@pytest.mark.parametrize("who", ["approved caller", "caller approved for nothing"])
def test_every_admin_url_with_ids_of_campaigns_a_caller_does_not_work_is_refused_and_shows_nothing(client, scene, who):
    # given: Amy, approved for one campaign; or Nina, in the Callers group too but approved for none
    if who == "approved caller":
        user, secrets = scene.amy, scene.secrets
    else:
        user, secrets = member_of("Callers", "nina.new"), [*scene.secrets, *AMYS]
    before = state()
    walk = Walk(client, scene, user, secrets)
    routes = admin_routes()
    assert len(routes) > 150
    # when
    for route in routes:
        walk.route(route)
    # then: every pattern was walked, nothing changed
    assert walk.walked == {route.route for route in routes}
    assert walk.requests > 1000
    assert state() == before


def test_the_walker_reads_the_pages_it_checks(client, scene):
    # given: what Amy may see, through the same walk
    walk = Walk(client, scene, scene.amy, scene.secrets)
    client.force_login(scene.amy)
    # when
    pages = {
        "lead": client.get(f"/admin/campaigns/lead/{scene.maria.pk}/change/"),
        "details": client.get(f"/admin/campaigns/account/{scene.clinic.pk}/details/"),
        "leads": client.get("/admin/campaigns/lead/"),
    }
    # then: her own pages answer, with her lead in them, and the walk would catch a secret on them
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert "Maria" in response.content.decode(), name
    walk.secrets = [*scene.secrets, "Maria"]
    with pytest.raises(AssertionError, match="shows"):
        walk.answer("get", f"/admin/campaigns/lead/{scene.maria.pk}/change/", expected={200})


def test_the_walker_knows_every_pattern_the_admin_has():
    # given
    routes = admin_routes()
    # when
    by_owner = {}
    for route in routes:
        by_owner.setdefault(route.model_admin, []).append(route)
    # then: every registered ModelAdmin's own URLs are there, custom ones included
    for model, model_admin in admin.site._registry.items():
        names = {p.name for p in model_admin.get_urls()}
        assert names <= {route.name for route in by_owner[model_admin]}, model
    assert {route.name for route in routes} >= {
        "campaigns_account_details",
        "campaigns_lead_record_call",
        "campaigns_lead_meeting_outcome",
        "campaigns_lead_workflow",
        "campaigns_lead_export",
        "autocomplete",
        "view_on_site",
        "app_list",
    }
    unnamed = [route.route for route in routes if route.name is None]
    assert "campaigns/lead/<path:object_id>/" in unnamed and "(?P<url>.*)$" in unnamed
