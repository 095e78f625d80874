"""The operator board's WebSocket: sends the board on connect and after every change."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .board import board_snapshot
from .events import POSITIONS_GROUP


class PositionsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()
            return
        await self.channel_layer.group_add(POSITIONS_GROUP, self.channel_name)
        await self.accept()
        await self.send_board()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(POSITIONS_GROUP, self.channel_name)

    async def positions_changed(self, event):
        await self.send_board()

    async def marks_changed(self, event):
        await self.send_board()

    async def send_board(self):
        await self.send_json({"type": "board", "board": await database_sync_to_async(board_snapshot)()})
