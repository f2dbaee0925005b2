"""Every write the admin can make goes through a service: a pin over ``admin.site._registry``.

For each registered ModelAdmin (and each of its inlines), and for each write it lets a superuser make, the
ModelAdmin method Django saves or deletes with must be leadops' own, must not hand the write back to Django
(``super().save_model(...)``), must not save or delete the object, form or formset it was given itself, and
must call a service (a function of a ``*.services`` module, directly or through a helper of its own).

* add: ``save_model`` (or the admin's own ``add_view``, which then never reaches ``save_model``);
* change: ``save_model`` (the change form and ``list_editable`` both save with it);
* delete: ``delete_model`` and ``delete_queryset`` (the delete page and the "delete selected" action);
* django-import-export's import: ``process_import``;
* an inline that may add, change or delete rows: the parent's ``save_formset``.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable

from django.contrib import admin
from django.test import RequestFactory
from import_export.admin import ImportMixin

from campaigns.models import Disposition, User
from campaigns.services import lead_statuses_recompute

OURS = ("campaigns", "suppressions", "leadops")

# Models whose admin is the library's, not leadops': their writes are the library's own business.
NOT_OURS = {
    "auth.group": "Django's auth admin: groups and their permissions (the Ops groups come from a migration)",
    "campaigns.user": (
        "Django's auth admin: its forms hash passwords and its password view saves the user itself; the one rule "
        "leadops adds to a user (a customer's user is never staff) is a CheckConstraint the form validates"
    ),
    "axes.accessattempt": "django-axes' lockout records",
    "axes.accesslog": "django-axes' login log",
    "axes.accessfailurelog": "django-axes' failed-login log",
}

# Writing to what the method was given, instead of calling a service.
WRITES = {"save", "delete", "save_m2m", "save_existing_objects", "save_new_objects", "update"}


def _is_ours(obj: object) -> bool:
    return getattr(obj, "__module__", "").split(".")[0] in OURS


def _is_service(obj: object) -> bool:
    return ".services" in f".{getattr(obj, '__module__', '')}"


def _problems_of(func: Callable, *, owner: type, seen: set) -> tuple[list[str], bool]:
    """Return what ``func`` does wrong, and whether it calls a service (itself or through our own helpers)."""
    if func in seen:
        return [], False
    seen.add(func)
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    definition = tree.body[0]
    params = {a.arg for a in definition.args.args + definition.args.kwonlyargs} - {"self", "request"}
    problems: list[str] = []
    calls_service = False
    for node in ast.walk(definition):
        if not isinstance(node, ast.Call):
            continue
        target = node.func
        if isinstance(target, ast.Attribute):
            base = target.value
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super":
                problems.append(f"hands the write back to Django (super().{target.attr})")
                continue
            if isinstance(base, ast.Name) and base.id in params and target.attr in WRITES:
                problems.append(f"writes itself ({base.id}.{target.attr}(...))")
                continue
            if isinstance(base, ast.Name) and base.id == "self":
                called = getattr(owner, target.attr, None)
            elif isinstance(base, ast.Name):
                called = getattr(func.__globals__.get(base.id), target.attr, None)
            else:
                continue
        elif isinstance(target, ast.Name):
            called = func.__globals__.get(target.id)
        else:
            continue
        if _is_service(called):
            calls_service = True
        elif inspect.isfunction(called) and _is_ours(called):
            more, through = _problems_of(called, owner=owner, seen=seen)
            problems += more
            calls_service = calls_service or through
    return problems, calls_service


def _through_a_service(model_admin: admin.ModelAdmin, name: str) -> str:
    """Return what is wrong with ``model_admin``'s ``name`` as a write path, or ``""`` when it goes through a
    service."""
    method = getattr(type(model_admin), name)
    if not _is_ours(method):
        return f"{name} is {method.__module__}'s"
    problems, calls_service = _problems_of(method, owner=type(model_admin), seen=set())
    if not calls_service:
        problems.append("calls no service")
    return f"{name} {'; '.join(problems)}" if problems else ""


def _writing_request():
    request = RequestFactory().post("/admin/")
    request.user = User(username="root", is_superuser=True, is_staff=True, is_active=True)
    return request


def _write_problems(model, model_admin: admin.ModelAdmin) -> list[str]:
    request, obj = _writing_request(), model()
    # Each write the admin allows, with the methods that may carry it (any one of them, when several).
    writes: list[tuple[str, tuple[str, ...]]] = []
    if model_admin.has_add_permission(request):
        writes.append(("adds", ("save_model", "add_view")))
    if model_admin.has_change_permission(request, obj):
        writes.append(("changes", ("save_model",)))
    if model_admin.has_delete_permission(request, obj):
        writes += [("deletes", ("delete_model",)), ("deletes", ("delete_queryset",))]
    if isinstance(model_admin, ImportMixin) and model_admin.has_import_permission(request):
        writes.append(("imports", ("process_import",)))
    problems = []
    for word, names in writes:
        whys = [_through_a_service(model_admin, name) for name in names]
        if all(whys):
            problems.append(f"{word}: {whys[0]}")
    inlines = {*model_admin.get_inlines(request, None), *model_admin.get_inlines(request, obj)}
    for inline_class in sorted(inlines, key=lambda inline: inline.__name__):
        inline = inline_class(model, model_admin.admin_site)
        writes = [
            word
            for word, may in (
                ("adds", inline.has_add_permission(request, obj)),
                ("changes", inline.has_change_permission(request, obj)),
                ("deletes", inline.can_delete and inline.has_delete_permission(request, obj)),
            )
            if may
        ]
        if writes and (why := _through_a_service(model_admin, "save_formset")):
            problems.append(f"its inline {inline_class.__name__} {'/'.join(writes)} rows: {why}")
    return problems


def test_every_admin_write_goes_through_a_service():
    # given
    registry = admin.site._registry
    # when
    found = {
        f"{type(model_admin).__name__} ({model._meta.label})": problems
        for model, model_admin in registry.items()
        if model._meta.label_lower not in NOT_OURS and (problems := _write_problems(model, model_admin))
    }
    # then
    assert found == {}


def test_the_admins_left_to_their_library_are_still_the_librarys():
    # given
    registered = {model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()}
    # when
    left = {label: registered.get(label) for label in NOT_OURS}
    # then: each one is registered, and saves and deletes as its library does (else it is ours to pin)
    assert None not in left.values()
    for model_admin in left.values():
        for name in ("save_model", "save_formset", "delete_model", "delete_queryset"):
            assert not _is_ours(getattr(type(model_admin), name)), (type(model_admin), name)


def test_the_pin_catches_a_write_handed_back_to_django():
    # given: an admin that calls a service and then lets Django save the object as well
    class HandsBack(admin.ModelAdmin):
        def save_model(self, request, obj, form, change):
            lead_statuses_recompute(leads=obj.campaign.leads.all())
            super().save_model(request, obj, form, change)

    HandsBack.save_model.__module__ = "campaigns.admin.example"
    # when
    why = _through_a_service(HandsBack(Disposition, admin.site), "save_model")
    # then
    assert why == "save_model hands the write back to Django (super().save_model)"


def test_the_pin_catches_an_admin_that_saves_the_object_itself():
    # given
    class SavesItself(admin.ModelAdmin):
        def save_model(self, request, obj, form, change):
            obj.save(update_fields=["label"])

    SavesItself.save_model.__module__ = "campaigns.admin.example"
    # when
    why = _through_a_service(SavesItself(Disposition, admin.site), "save_model")
    # then
    assert why == "save_model writes itself (obj.save(...)); calls no service"
