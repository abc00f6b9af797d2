/**
 * A FastAPI + async SQLAlchemy app shaped like the tutorial's (settings, database.py with the
 * engine and Base, create_all in the lifespan) with `models` mapped classes spread over
 * `modules` modules: each table has a unique and an indexed column, a composite index, a
 * foreign key to the table before it (across modules where it falls) and one to the first
 * table, each with its relationship. Deterministic, so every size is the same project each run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function generateProject(dir: string, models: number, modules: number): { bytes: number; lines: number } {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {
    'pyproject.toml': `[project]
name = "generated-${models}"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "aiosqlite>=0.20",
    "fastapi>=0.115",
    "pydantic-settings>=2.4",
    "sqlalchemy[asyncio]>=2.0.30",
    "uvicorn>=0.30",
]
`,
    'config.py': `from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8")

    app_name: str = "inventory"


settings = Settings()
`,
    'database.py': `from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

SQLALCHEMY_DATABASE_URL = "sqlite+aiosqlite:///./app.db"

engine = create_async_engine(SQLALCHEMY_DATABASE_URL, connect_args={"check_same_thread": False})

SessionLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


async def get_db():
    async with SessionLocal() as session:
        yield session
`,
    'main.py': `from contextlib import asynccontextmanager

from fastapi import FastAPI

import models  # noqa: F401  (registers every table)
from database import Base, engine


@asynccontextmanager
async def lifespan(_app: FastAPI):
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield
    await engine.dispose()


app = FastAPI(title="Inventory", lifespan=lifespan)


@app.get("/health")
async def health():
    return {"status": "ok", "tables": len(Base.metadata.tables)}
`,
  };
  const perModule = Math.ceil(models / modules);
  const moduleOf = (i: number) => Math.floor(i / perModule);
  const modName = (m: number) => `m${String(m).padStart(2, '0')}`;
  const header = `from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from database import Base
`;
  const model = (i: number) => {
    const t = `item_${i}`;
    const fks: string[] = [];
    if (i > 0) {
      fks.push(`    parent_id: Mapped[int | None] = mapped_column(ForeignKey("item_${i - 1}.id", ondelete="SET NULL"), index=True)`);
      fks.push(`    parent = relationship("Item${i - 1}", foreign_keys="Item${i}.parent_id")`);
    }
    if (i > 1) {
      fks.push(`    root_id: Mapped[int] = mapped_column(ForeignKey("item_0.id"), nullable=False)`);
      fks.push(`    root = relationship("Item0", foreign_keys="Item${i}.root_id")`);
    }
    return `

class Item${i}(Base):
    __tablename__ = "${t}"
    __table_args__ = (Index("ix_${t}_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(120), index=True, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="active", nullable=False)
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))
${fks.join('\n')}
`;
  };
  if (modules === 1) {
    files['models.py'] = header + Array.from({ length: models }, (_, i) => model(i)).join('');
  } else {
    const used = Math.ceil(models / perModule);
    files['models/__init__.py'] = Array.from({ length: used }, (_, m) => `from . import ${modName(m)}  # noqa: F401`).join('\n') + '\n';
    for (let m = 0; m < used; m++) {
      const own = Array.from({ length: models }, (_, i) => i).filter((i) => moduleOf(i) === m);
      files[`models/${modName(m)}.py`] = header + own.map(model).join('');
    }
  }
  let bytes = 0;
  let lines = 0;
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
    if (rel.endsWith('.py')) {
      bytes += Buffer.byteLength(text);
      lines += text.split('\n').length;
    }
  }
  return { bytes, lines };
}
