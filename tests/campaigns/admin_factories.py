"""Factories for the rows only the admin tests need: dispositions, calls and meetings."""

import factory

from campaigns.models import Call, Disposition, Meeting
from tests.campaigns.factories import CampaignFactory, LeadFactory, PhoneNumberFactory, UserFactory


class DispositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disposition

    campaign = factory.SubFactory(CampaignFactory)
    code = factory.Sequence(lambda n: f"outcome_{n}")
    label = factory.Sequence(lambda n: f"Outcome {n}")
    effect = Disposition.Effect.NO_CONNECT


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    lead = factory.SubFactory(LeadFactory)
    caller = factory.SubFactory(UserFactory, is_staff=False)
    phone = factory.SubFactory(PhoneNumberFactory)
    disposition = factory.SubFactory(DispositionFactory, campaign=factory.SelfAttribute("..lead.campaign"))


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    lead = factory.SubFactory(LeadFactory)
