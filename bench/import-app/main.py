from contextlib import asynccontextmanager

from fastapi import FastAPI

import models  # noqa: F401
from database import Base, engine


@asynccontextmanager
async def lifespan(_app: FastAPI):
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(title="Shop", lifespan=lifespan)
