"""Page routes of the gift-list domain."""

from django.urls import path

from . import pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("families/new/", pages.new_family, name="new-family"),
    path("families/<int:pk>/", pages.family, name="family"),
    path("families/<int:pk>/invitations/", pages.invite, name="invite"),
    path("families/<int:pk>/leave/", pages.leave_family, name="leave-family"),
    path(
        "families/<int:pk>/members/<int:user_id>/remove/",
        pages.remove_member,
        name="remove-member",
    ),
    path("families/<int:pk>/lists/new/", pages.new_gift_list, name="new-gift-list"),
    path("families/<int:pk>/currency/", pages.family_currency, name="family-currency"),
    path("lists/<int:pk>/", pages.gift_list, name="gift-list"),
    path("lists/<int:pk>/edit/", pages.edit_gift_list, name="edit-gift-list"),
    path("lists/<int:pk>/delete/", pages.delete_gift_list, name="delete-gift-list"),
    path("lists/<int:pk>/archive/", pages.archive_gift_list, name="archive-gift-list"),
    path("inspector/", pages.inspector, name="inspector"),
    path("invitations/<str:token>/", pages.invitation, name="invitation"),
    path("favicon.ico", pages.favicon),
]
