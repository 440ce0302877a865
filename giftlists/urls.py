"""Page routes of the gift-list domain."""

urlpatterns: list = []
