"""The portal's URLs. Every path parameter is the id of one of the signed-in customer's own objects.

``tests/portal/test_isolation.py`` walks this list, so a new page is checked against another
customer's ids without anyone remembering to: name a new id parameter after its model (``<int:x_id>``).
"""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from campaigns.portal import crm_views, report_views, views
from campaigns.portal.forms import PortalAuthenticationForm, PortalPasswordResetForm

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    # Signing in, out, and resetting a forgotten password: Django's views with the portal's templates.
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="portal/login.html",
            authentication_form=PortalAuthenticationForm,
            next_page=reverse_lazy("portal:home"),
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page=reverse_lazy("portal:login")), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="portal/password_reset.html",
            form_class=PortalPasswordResetForm,
            email_template_name="portal/password_reset_email.txt",
            subject_template_name="portal/password_reset_subject.txt",
            success_url=reverse_lazy("portal:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="portal/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="portal/password_reset_confirm.html",
            success_url=reverse_lazy("portal:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="portal/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    # Suppression lists.
    path("suppressions/", views.suppressions, name="suppressions"),
    path("suppressions/confirm/", views.upload_confirm, name="upload_confirm"),
    path("suppressions/uploads/<int:upload_id>/", views.upload_detail, name="upload"),
    path("suppressions/uploads/<int:upload_id>/status.json", views.upload_status, name="upload_status"),
    path("suppressions/uploads/<int:upload_id>/rejected.csv", views.upload_rejected_csv, name="upload_rejected_csv"),
    path("suppressions/uploads/<int:upload_id>/remove/", views.upload_remove_view, name="upload_remove"),
    path("suppressions/entries/", views.entries, name="entries"),
    path("suppressions/entries.csv", views.entries_csv, name="entries_csv"),
    path("suppressions/entries/<int:entry_id>/remove/", views.entry_remove, name="entry_remove"),
    # Accounts and contacts, and the customer's own Do Not Call marks on them.
    path("accounts/", views.accounts, name="accounts"),
    path("accounts.csv", views.accounts_csv, name="accounts_csv"),
    path("accounts/<int:account_id>/", views.account_detail, name="account"),
    path("accounts/<int:account_id>/do-not-call/", views.account_dnc, name="account_dnc"),
    path("accounts/<int:account_id>/do-not-call/remove/", views.account_dnc_lift, name="account_dnc_lift"),
    path("contacts/", views.contacts, name="contacts"),
    path("contacts.csv", views.contacts_csv, name="contacts_csv"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact"),
    path("contacts/<int:contact_id>/dossier/", views.contact_dossier_page, name="contact_dossier"),
    path("contacts/<int:contact_id>/dossier.json", views.contact_dossier_json, name="contact_dossier_json"),
    path("contacts/<int:contact_id>/dossier.csv", views.contact_dossier_csv, name="contact_dossier_csv"),
    path("contacts/<int:contact_id>/do-not-call/", views.contact_dnc, name="contact_dnc"),
    path("contacts/<int:contact_id>/do-not-call/remove/", views.contact_dnc_lift, name="contact_dnc_lift"),
    # Why leads left the pool.
    path("leads/disqualified/", views.disqualified, name="disqualified"),
    path("leads/disqualified.csv", views.disqualified_csv, name="disqualified_csv"),
    # The lead report: figures by source and segment, and the leads behind each number.
    path("report/", report_views.report, name="report"),
    path("report.csv", report_views.report_csv, name="report_csv"),
    path("report/leads/", report_views.report_leads, name="report_leads"),
    # What qualified leads became.
    path("opportunities/", views.opportunities, name="opportunities"),
    path("opportunities.csv", views.opportunities_csv, name="opportunities_csv"),
    path("opportunities/<int:opportunity_id>/", views.opportunity_detail, name="opportunity"),
    # Self-service (issue 16): the customer's CRM connections and rules, each change previewed first; asking the
    # agency to lift a block, and its answers.
    path("crm/", crm_views.crm, name="crm"),
    path("crm/connections/new/", crm_views.crm_connection_new, name="crm_connection_new"),
    path("crm/connections/<int:connection_id>/", crm_views.crm_connection, name="crm_connection"),
    path("crm/connections/<int:connection_id>/rotate/", crm_views.crm_connection_rotate, name="crm_connection_rotate"),
    path("crm/rules/new/", crm_views.crm_rule_new, name="crm_rule_new"),
    path("crm/rules/<int:rule_id>/", crm_views.crm_rule, name="crm_rule"),
    path("crm/rules/<int:rule_id>/switch/", crm_views.crm_rule_switch_view, name="crm_rule_switch"),
    path("leads/<int:lead_id>/ask-to-lift/<int:block_id>/", crm_views.undo_request_new, name="undo_request_new"),
    path("leads/undo-requests/", crm_views.undo_requests, name="undo_requests"),
]
