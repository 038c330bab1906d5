"""The Open WebUI test double's "database": one JSON file under DATA_DIR, written atomically.

The real one is SQLite (webui.db) with users, chats and a config table; the stand-in keeps the
same three things in standin-webui.json so tests can check they survive a recreate.
"""

import hashlib
import json
import os
import threading
import time
import uuid


def password_hash(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


class Database:
    def __init__(self, data_dir: str):
        self.path = os.path.join(data_dir, "standin-webui.json")
        self.lock = threading.RLock()
        os.makedirs(data_dir, exist_ok=True)
        for sub in ("uploads", "cache"):  # created by the real app too
            os.makedirs(os.path.join(data_dir, sub), exist_ok=True)
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as handle:
                self.data = json.load(handle)
        else:
            self.data = {"users": [], "chats": [], "config": {}, "boots": 0}
        self.save()

    def save(self) -> None:
        with self.lock:
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(self.data, handle, indent=1)
            os.replace(tmp, self.path)

    def readable(self) -> bool:
        try:
            with open(self.path, encoding="utf-8") as handle:
                json.load(handle)
            return True
        except (OSError, ValueError):
            return False

    # users ------------------------------------------------------------------------------
    def add_user(self, email: str, password: str, name: str, role: str) -> dict:
        with self.lock:
            user = {"id": str(uuid.uuid4()), "email": email.lower(), "name": name, "role": role,
                    "password_sha256": password_hash(password), "created_at": int(time.time())}
            self.data["users"].append(user)
            self.save()
            return user

    def user_by_email(self, email: str):
        return next((u for u in self.data["users"] if u["email"] == email.lower()), None)

    def user_by_id(self, user_id: str):
        return next((u for u in self.data["users"] if u["id"] == user_id), None)

    # chats ------------------------------------------------------------------------------
    def add_chat(self, user_id: str, title: str) -> dict:
        with self.lock:
            chat = {"id": str(uuid.uuid4()), "user_id": user_id, "title": title, "created_at": int(time.time())}
            self.data["chats"].append(chat)
            self.save()
            return chat

    def chats_of(self, user_id: str) -> list:
        return [c for c in self.data["chats"] if c["user_id"] == user_id]

    # config -----------------------------------------------------------------------------
    def stored_config(self) -> dict:
        return self.data.setdefault("config", {})

    def store_config(self, values: dict) -> None:
        with self.lock:
            self.stored_config().update(values)
            self.save()
