"""Column headers of common CRM exports (Salesforce, HubSpot, Pipedrive, Apollo, ZoomInfo…), as data."""

from __future__ import annotations

from typing import Final

from campaigns.models import ContactPhone
from suppressions.reading import AliasFamily, ColumnAliases

IGNORE: Final = "ignore"

PHONE_FIELDS: Final = {
    "phone": ContactPhone.Kind.OFFICE,
    "mobile": ContactPhone.Kind.MOBILE,
    "direct": ContactPhone.Kind.DIRECT,
    "other_phone": ContactPhone.Kind.DIRECT,
}
ACCOUNT_ATTRIBUTES: Final = ("country", "industry", "employees")
CONTACT_ATTRIBUTES: Final = ("age", "nationality", "income")

LEAD_ALIASES: Final = ColumnAliases(
    (
        AliasFamily("first_name", names=("first name", "firstname", "first", "given name", "forename", "fname")),
        AliasFamily("last_name", names=("last name", "lastname", "last", "surname", "family name", "lname")),
        AliasFamily(
            "full_name",
            names=("name", "full name", "fullname", "contact name", "contact", "person", "lead name", "prospect name"),
        ),
        AliasFamily(
            "title", names=("title", "job title", "jobtitle", "position", "role", "designation"), endings=("title",)
        ),
        AliasFamily(
            "company",
            names=(
                "company",
                "company name",
                "account",
                "account name",
                "organization",
                "organisation",
                "organization name",
                "employer",
                "business name",
            ),
            endings=("companyname", "accountname"),
        ),
        AliasFamily(
            "website",
            names=(
                "website",
                "web site",
                "domain",
                "company domain",
                "company website",
                "url",
                "web",
                "homepage",
                "website url",
                "domain name",
            ),
            endings=("website", "domain", "url"),
        ),
        AliasFamily(
            "email",
            names=("email", "e-mail", "email address", "e-mail address", "work email", "mail", "business email"),
            endings=("email", "emailaddress"),
        ),
        AliasFamily(
            "mobile",
            names=(
                "mobile",
                "mobile phone",
                "cell",
                "cell phone",
                "cellphone",
                "mobile number",
                "mobilephone",
                "personal mobile",
            ),
            endings=("mobile", "mobilephone", "cellphone", "cell"),
        ),
        AliasFamily(
            "direct",
            names=("direct dial", "direct phone", "direct line", "direct", "direct number", "work direct phone"),
            endings=("directdial", "directphone", "directline"),
        ),
        AliasFamily(
            "other_phone",
            names=("other phone", "phone 2", "alternate phone", "alt phone", "home phone", "secondary phone"),
            endings=("otherphone", "homephone"),
        ),
        AliasFamily(
            "phone",
            names=(
                "phone",
                "phone number",
                "telephone",
                "tel",
                "business phone",
                "work phone",
                "office phone",
                "company phone",
                "main phone",
                "switchboard",
            ),
            endings=("phone", "phonenumber", "telephone"),
        ),
        AliasFamily("country", names=("country", "country code", "country/region", "nation"), endings=("country",)),
        AliasFamily("industry", names=("industry", "sector", "vertical", "industry type"), endings=("industry",)),
        AliasFamily(
            "employees",
            names=(
                "employees",
                "employee count",
                "number of employees",
                "# employees",
                "company size",
                "headcount",
                "staff count",
                "no of employees",
            ),
            endings=("employees", "employeecount", "headcount"),
        ),
        AliasFamily(
            "lead_source",
            names=("lead source", "source", "leadsource", "original source", "list"),
            endings=("leadsource",),
        ),
        AliasFamily("age", names=("age",)),
        AliasFamily("nationality", names=("nationality", "citizenship")),
        AliasFamily(
            "income", names=("income", "income band", "annual income", "household income"), endings=("income",)
        ),
    )
)
FIELDS: Final = tuple(dict.fromkeys(f.field for f in LEAD_ALIASES.families))
