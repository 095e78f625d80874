from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="positions:board", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("positions/", include("positions.urls")),
    # The ASGI server serves no files of its own: static files (admin, API docs) come from here.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
]
