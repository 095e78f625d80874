"""The key under which handlers find the running `Simulator` in their aiohttp application."""

from aiohttp import web

SIMULATOR = web.AppKey("simulator", object)
