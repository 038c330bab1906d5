"""The ollama_info integration target against a fresh stand-in."""


def test_ollama_info_target(ollama_standin, run_target, free_port):
    proc = run_target("ollama_info", {"ollama_api_url": ollama_standin.url,
                                      "ollama_closed_url": f"http://127.0.0.1:{free_port()}"})
    assert "failed=0" in proc.stdout
