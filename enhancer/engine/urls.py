from __future__ import annotations

from django.urls import path

from enhancer.engine import views

app_name = "engine"

urlpatterns = [
    path("v2/artworks/detailer-upscaler", views.create_artwork, name="create"),
    path("v2/artworks/<str:artwork_id>", views.artwork_detail, name="detail"),
    path("v2/artworks", views.artwork_list, name="list"),
    path("v2/results/<uuid:artwork_id>/<str:name>", views.result_file, name="result"),
]
