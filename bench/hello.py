"""The ceiling of bench/load.py: a five-line FastAPI page on the same uvicorn settings."""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.get("/", response_class=HTMLResponse)
def hello() -> str:
    return "<!doctype html><title>hello</title><p>hello</p>"
