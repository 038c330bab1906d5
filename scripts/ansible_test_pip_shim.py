"""Write the pip bootstrap script that ansible-test looks for in its cache.

ansible-test downloads `get-pip-<version>.py` from Ansible's CI file server unless
~/.ansible/test/cache/get_pip_<version>.py exists. That server is not reachable from
every network (ansible/ansible#77304), so this writes a small stand-in that bootstraps
pip with ensurepip, then installs what ansible-test asks for from the package index.
"""

import pathlib
import re

import ansible_test

SHIM = '''\
# Written by aistack's scripts/ansible_test_pip_shim.py: bootstrap pip offline.
import ensurepip
import os
import sys

ensurepip.bootstrap()
from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
# ansible-test clears pip's environment; keep the system CA bundle for TLS.
cert = ["--cert", "/etc/ssl/certs/ca-certificates.crt"] if os.path.exists("/etc/ssl/certs/ca-certificates.crt") else []
sys.exit(main(["install", "--upgrade"] + cert + args))
'''


def main():
    source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"pip='([0-9.]+)'", source.read_text())
    if not match:
        raise SystemExit(f"cannot find ansible-test's pip version in {source}")
    cache = pathlib.Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"get_pip_{match.group(1).replace('.', '_')}.py").write_text(SHIM)


if __name__ == "__main__":
    main()
