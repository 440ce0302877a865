"""Page routes of the gift-list domain."""

from django.urls import path

from . import pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("lists/<int:pk>/", pages.gift_list, name="gift-list"),
    path("inspector/", pages.inspector, name="inspector"),
    path("invitations/<str:token>/", pages.invitation, name="invitation"),
    path("favicon.ico", pages.favicon),
]
