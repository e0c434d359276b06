"""Being written (issue 7)."""

urlpatterns: list = []
