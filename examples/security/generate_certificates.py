"""Make CURVE certificates for ironhouse.py -- ``python generate_certificates.py [DIRECTORY]``.

Creates a certificate for the server and one for each client name given to
:func:`generate_certificates` (``client`` by default) and sorts them into two
directories under DIRECTORY (``certificates`` by default):

- ``public_keys/NAME.key``: the public certificates. The server's is what its
  clients need; the clients' are the server's list of who may connect.
- ``secret_keys/NAME.key_secret``: public and secret key together, each
  readable by its owner only. Each program reads its own and nobody else's.

In a real deployment the secret files are made where they are used and never
copied; only ``.key`` files travel, over a channel you trust. Existing
certificates of the same names are replaced.
"""

import os
import sys

from greenmq.auth import create_certificates


def generate_certificates(base_dir, clients=("client",)):
    """Create the server's and the ``clients``' certificates under ``base_dir``.

    Returns ``(public_keys_dir, secret_keys_dir)``.
    """
    public_keys_dir = os.path.join(base_dir, "public_keys")
    secret_keys_dir = os.path.join(base_dir, "secret_keys")
    os.makedirs(public_keys_dir, exist_ok=True)
    os.makedirs(secret_keys_dir, mode=0o700, exist_ok=True)
    for name in ("server", *clients):
        # create_certificates writes NAME.key and NAME.key_secret side by side;
        # make them in the secret directory and move the public half out.
        public_file, _secret_file = create_certificates(secret_keys_dir, name)
        os.replace(public_file, os.path.join(public_keys_dir, os.path.basename(public_file)))
    return public_keys_dir, secret_keys_dir


def main(argv):
    base_dir = argv[0] if argv else "certificates"
    public_keys_dir, secret_keys_dir = generate_certificates(base_dir)
    print(f"public certificates in {public_keys_dir}", flush=True)
    print(f"secret certificates in {secret_keys_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
