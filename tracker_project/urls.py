from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from api.errors import django_error_handlers
from api.metrics import metrics

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="positions:board", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("metrics", metrics, name="metrics"),
    path("positions/", include("positions.urls")),
    # The ASGI server serves no files of its own: static files (admin, API docs) come from here.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
]

# Errors Django answers itself (a bad Host header, a failure outside any view): JSON under /api/.
handler400, handler403, handler404, handler500 = django_error_handlers("/api/")
