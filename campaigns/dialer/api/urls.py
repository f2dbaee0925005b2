from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from campaigns.dialer.api import views
from campaigns.dialer.api.errors import api_exception_handler


class SchemaView(SpectacularAPIView):
    """The OpenAPI description; its refusals (a method other than GET, say) in the API's error shape."""

    def get_exception_handler(self):
        return api_exception_handler


app_name = "api"

urlpatterns = [
    path("health", views.health, name="health"),
    path("schema", SchemaView.as_view(api_version="v1"), name="schema"),
    path("campaigns/<int:campaign_id>/pull", views.PullView.as_view(), name="pull"),
    path("leads/<int:lead_id>/dial-check", views.DialCheckView.as_view(), name="dial-check"),
    path("leads/<int:lead_id>/calls", views.CallView.as_view(), name="calls"),
    path("leads/<int:lead_id>/release", views.ReleaseView.as_view(), name="release"),
]
