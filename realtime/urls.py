"""HTTP routes of the realtime app, mounted under ``api/`` by the project."""

from django.urls import path

from realtime.auth.views import TicketView
from realtime.transports.polling import EventsView

urlpatterns = [
    path("realtime/events/", EventsView.as_view(), name="realtime-events"),
    path("realtime/ticket/", TicketView.as_view(), name="realtime-ticket"),
]
