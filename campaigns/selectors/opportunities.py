"""What qualifying offers: the records a lead's company may already be (existing customer), and the
catalogues to choose from (projects, lost reasons, consideration stages) for the lead's campaign.

The core knows accounts; a CRM record marked as a customer is the CRM app's, above the core, so it registers
its finder here (``existing_record_finder_register``, from its ``AppConfig.ready``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model, Q, QuerySet

from campaigns.models import Account, ConsiderationStage, Lead, LostReason, Project


@dataclass(frozen=True)
class ExistingMatch:
    """One record the lead's company may already be: the account to put the opportunity on, and the record
    matched (the same account, another account on its domain, or a CRM record), with why, in words."""

    account: Account
    record: Model
    why: str

    @property
    def key(self) -> str:
        """Return a token naming the record in a form (``account:12``, ``crm.crmrecord:4``)."""
        return f"{self.record._meta.label_lower}:{self.record.pk}"

    def __str__(self) -> str:
        return f"{self.record} ({self.why})"


Finder = Callable[[Lead], list[ExistingMatch]]
_finders: list[Finder] = []


def existing_record_finder_register(finder: Finder) -> None:
    """Add ``finder`` to what ``existing_matches`` asks; registering it again changes nothing."""
    if finder not in _finders:
        _finders.append(finder)


def _domain_covers(domain: str) -> Q:
    """Accounts on ``domain`` itself or on a subdomain of it, and those whose domain ``domain`` is a subdomain of."""
    parents = domain.split(".")
    above = [".".join(parents[i:]) for i in range(1, len(parents) - 1)]
    return Q(domain=domain) | Q(domain__endswith=f".{domain}") | Q(domain__in=above)


def existing_matches(lead: Lead) -> list[ExistingMatch]:
    """Return the records ``lead``'s company may already be, for its customer: its own account first, then
    the customer's other accounts on the same domain (or a subdomain of it, or the domain it is a subdomain
    of), then what registered finders say (a CRM record marked as a customer)."""
    account = lead.contact.account
    matches = [ExistingMatch(account=account, record=account, why="the lead's own account")]
    if account.domain:
        others = Account.objects.filter(_domain_covers(account.domain), customer_id=lead.customer_id).exclude(
            pk=account.pk
        )
        matches += [ExistingMatch(account=a, record=a, why=f"an account on {a.domain}") for a in others[:20]]
    for finder in _finders:
        matches += finder(lead)
    return matches


def projects_offered(lead: Lead) -> QuerySet[Project]:
    """Return the active projects of the lead's customer offered in its campaign: those restricted to no
    campaign, and those restricted to campaigns that include this one."""
    offered = Q(campaigns__isnull=True) | Q(campaigns=lead.campaign_id)
    return Project.objects.filter(offered, customer_id=lead.customer_id, is_active=True).distinct()


def lost_reasons_offered(lead: Lead) -> QuerySet[LostReason]:
    return LostReason.objects.filter(customer_id=lead.customer_id, is_active=True)


def consideration_stages_offered(lead: Lead) -> QuerySet[ConsiderationStage]:
    return ConsiderationStage.objects.filter(campaign_id=lead.campaign_id, is_active=True)
