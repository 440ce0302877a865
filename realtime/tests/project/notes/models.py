"""A small app as a new project would write it: boards with members, and notes."""

from django.conf import settings
from django.db import models


class Board(models.Model):
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="boards")

    class Meta:
        app_label = "notes"

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    board = models.ForeignKey(Board, on_delete=models.CASCADE)
    text = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "notes"

    def __str__(self) -> str:
        return self.text
