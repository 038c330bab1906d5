"""Settings of the Open WebUI test double, read from the variables the real image reads.

Names and defaults come from open-webui's backend/open_webui/env.py and config.py (see README).
Persistent settings ("PersistentConfig" in config.py) are the ones whose stored value, once in the
database, wins over the environment unless ENABLE_PERSISTENT_CONFIG=False.
"""

import base64
import os
import pathlib


def env_bool(environ, name: str, default: str) -> bool:
    # The real code compares .lower() == "true": anything else is false.
    return environ.get(name, default).lower() == "true"


def ollama_base_url(environ) -> str:
    """OLLAMA_BASE_URL as config.py reads it: trailing slash dropped; the image's default "/ollama"
    becomes http://host.docker.internal:11434 when ENV=prod (the image sets it)."""
    single = environ.get("OLLAMA_BASE_URL", "")
    if single.endswith("/"):
        single = single[:-1]
    if single == "/ollama" and environ.get("ENV", "dev") == "prod":
        single = "http://host.docker.internal:11434"
    return single


def ollama_base_urls(environ) -> list:
    """OLLAMA_BASE_URLS (';'-separated) if set, else OLLAMA_BASE_URL."""
    urls = environ.get("OLLAMA_BASE_URLS", "") or ollama_base_url(environ)
    return [url.strip() for url in urls.split(";")]


def _int(environ, name: str, default: int):
    raw = environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        return raw  # kept as given: health reports it


# env name -> (config path in the database, how to read it from the environment)
PERSISTENT = {
    "ENABLE_SIGNUP": ("ui.enable_signup", lambda e: env_bool(e, "ENABLE_SIGNUP", "True")),
    "ENABLE_OLLAMA_API": ("ollama.enable", lambda e: env_bool(e, "ENABLE_OLLAMA_API", "True")),
    "OLLAMA_BASE_URLS": ("ollama.base_urls", ollama_base_urls),
    "CHUNK_SIZE": ("rag.chunk_size", lambda e: _int(e, "CHUNK_SIZE", 1000)),
    "CHUNK_OVERLAP": ("rag.chunk_overlap", lambda e: _int(e, "CHUNK_OVERLAP", 100)),
    "RAG_TOP_K": ("rag.top_k", lambda e: _int(e, "RAG_TOP_K", 3)),
    "RAG_EMBEDDING_ENGINE": ("rag.embedding_engine", lambda e: e.get("RAG_EMBEDDING_ENGINE", "")),
    "RAG_EMBEDDING_MODEL": ("rag.embedding_model",
                            lambda e: e.get("RAG_EMBEDDING_MODEL", "sentence-transformers/all-MiniLM-L6-v2")),
    # Defaults to OLLAMA_BASE_URL, not to OLLAMA_BASE_URLS: with several hosts set only through
    # OLLAMA_BASE_URLS, embeddings go to the image's default URL unless this is set too.
    "RAG_OLLAMA_BASE_URL": ("rag.ollama.url", lambda e: e.get("RAG_OLLAMA_BASE_URL", ollama_base_url(e))),
}


def env_settings(environ) -> dict:
    """What the environment alone says, for every setting the stand-in checks."""
    values = {name: read(environ) for name, (_path, read) in PERSISTENT.items()}
    values.update(
        WEBUI_AUTH=env_bool(environ, "WEBUI_AUTH", "True"),
        ENABLE_PERSISTENT_CONFIG=env_bool(environ, "ENABLE_PERSISTENT_CONFIG", "True"),
        RESET_CONFIG_ON_START=env_bool(environ, "RESET_CONFIG_ON_START", "False"),
        VECTOR_DB=environ.get("VECTOR_DB", "chroma"),
        QDRANT_URI=environ.get("QDRANT_URI") or None,
        QDRANT_API_KEY=environ.get("QDRANT_API_KEY") or None,
        QDRANT_PREFER_GRPC=env_bool(environ, "QDRANT_PREFER_GRPC", "False"),
        WEBUI_ADMIN_EMAIL=environ.get("WEBUI_ADMIN_EMAIL", ""),
        WEBUI_ADMIN_PASSWORD=environ.get("WEBUI_ADMIN_PASSWORD", ""),
        WEBUI_ADMIN_NAME=environ.get("WEBUI_ADMIN_NAME", "Admin"),
        WEBUI_NAME=environ.get("WEBUI_NAME", "Open WebUI"),
    )
    return values


def resolve_secret_key(environ, app_dir: pathlib.Path) -> tuple:
    """(key, source, path) the way the image's backend/start.sh finds WEBUI_SECRET_KEY.

    1. WEBUI_SECRET_KEY (or WEBUI_JWT_SECRET_KEY) from the environment;
    2. else the file WEBUI_SECRET_KEY_FILE names, generated there when missing or empty
       (recent start.sh versions; check the pinned tag);
    3. else .webui_secret_key in the application directory, generated when missing. In the image
       that is /app/backend, outside the data volume: a recreated container gets a new key and
       every session ends. (Newer start.sh versions fall back to $DATA_DIR instead; the stand-in
       keeps the older, stricter behaviour so that a role which forgets the key fails its test.)
    """
    for name in ("WEBUI_SECRET_KEY", "WEBUI_JWT_SECRET_KEY"):
        if environ.get(name):
            return environ[name], "env", None
    if environ.get("WEBUI_SECRET_KEY_FILE"):
        path, source = pathlib.Path(environ["WEBUI_SECRET_KEY_FILE"]), "file"
    else:
        path, source = app_dir / ".webui_secret_key", "app-dir-file"
    if not path.is_file() or not path.stat().st_size:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.b64encode(os.urandom(24)).decode() + "\n")
        source += "-generated"
    return path.read_text().strip(), source, str(path)
