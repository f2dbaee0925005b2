import pytest
from django.core.files.base import ContentFile

from suppressions.services import upload_create
from tests.campaigns.factories import CustomerFactory


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Acme Corp", slug="acme", phone_region="US")


@pytest.fixture
def upload_file(customer, django_capture_on_commit_callbacks):
    """Upload ``content`` for the customer and run its processing (on commit, eagerly); return the upload."""

    def upload(content: bytes, name: str = "list.csv", **options):
        with django_capture_on_commit_callbacks(execute=True):
            created = upload_create(
                customer=options.pop("for_customer", customer),
                file=ContentFile(content, name=name),
                original_name=name,
                uploaded_by=options.pop("uploaded_by", None),
                **options,
            )
        created.refresh_from_db()
        return created

    return upload
