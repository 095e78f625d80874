from django.urls import path

from . import views

app_name = "positions"
urlpatterns = [
    path("", views.board, name="board"),
    path("<int:pk>/", views.position_detail, name="detail"),
    path("<int:pk>/chart/", views.position_chart, name="chart"),
]
