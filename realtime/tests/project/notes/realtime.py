"""The lines a project writes to make its models live (docs/realtime.md)."""

import realtime

from .models import Board, Note

realtime.register(Note, topics=lambda note: [f"board:{note.board_id}"])


@realtime.policy("board", depends_on=[Board.members])
def board(user, board_id):
    return Board.objects.filter(pk=board_id, members=user).exists()
