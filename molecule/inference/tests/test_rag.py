"""A user's session with the real Open WebUI, end to end: sign in, chat, and a question answered
from a document uploaded into a knowledge base, with the sources naming it; Qdrant then holds
that document's points, reached with its key."""

import json
import pathlib

testinfra_hosts = ["ansible://inference"]

CHECK = pathlib.Path(__file__).resolve().parents[3] / "tests" / "e2e" / "open_webui_check.py"


def test_rag_answers_from_the_uploaded_document(host):
    host.ansible("copy", f"src={CHECK} dest=/root/open_webui_check.py mode=0755", check=False)
    result = host.run(
        "python3 /root/open_webui_check.py --url http://127.0.0.1:3000 --email admin@example.org"
        " --password-file /etc/aistack/secrets/open-webui/admin_password --model llama3.2:1b --require-marker"
    )
    report = json.loads(result.stdout)
    steps = report["steps"]
    assert result.rc == 0, json.dumps(report, indent=1)
    assert steps["signup_refused"]["ok"]
    assert steps["chat"]["ok"]
    rag = steps["rag_chat"]
    assert rag["marker_in_answer"] is True, rag
    # The sources name the knowledge base and the document the answer came from.
    assert any(name.startswith("aistack-e2e-") for name in rag["sources"]), rag
    assert "aistack-e2e.md" in rag["documents"], rag

    key = host.file("/etc/aistack/secrets/qdrant/api_key").content_string.strip()
    networks = json.loads(host.check_output("docker inspect aistack-qdrant-1"))[0]["NetworkSettings"]["Networks"]
    qdrant = f"http://{networks['aistack_internal']['IPAddress']}:6333"
    collections = json.loads(host.check_output(f"curl -fsS -H 'api-key: {key}' {qdrant}/collections"))
    names = [c["name"] for c in collections["result"]["collections"]]
    assert any(name.startswith("open-webui") for name in names), names
    counts = {}
    for name in names:
        body = json.dumps({"exact": True})
        count = host.check_output(
            f"curl -fsS -H 'api-key: {key}' -H 'Content-Type: application/json' "
            f"{qdrant}/collections/{name}/points/count -d '{body}'"
        )
        counts[name] = json.loads(count)["result"]["count"]
    assert sum(n for name, n in counts.items() if name.startswith("open-webui")) > 0, counts
