"""REST API routes of the gift-list domain (PROTOCOL.md, section 6)."""

from rest_framework.routers import SimpleRouter

from .views import FamilyViewSet, GiftListViewSet, GiftViewSet, InvitationViewSet

router = SimpleRouter()
router.register("families", FamilyViewSet, basename="family")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("gift-lists", GiftListViewSet, basename="gift-list")
router.register("gifts", GiftViewSet, basename="gift")

urlpatterns = router.urls
