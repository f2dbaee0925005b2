from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("campaigns.dialer.api.urls")),
    path("api/v1/crm/", include("suppressions.crm.urls")),
    path("portal/", include("campaigns.portal.urls")),
]
