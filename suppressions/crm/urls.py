from django.urls import path

from suppressions.crm.views import crm_events

app_name = "crm"
urlpatterns = [path("<int:connection_id>/events", crm_events, name="events")]
