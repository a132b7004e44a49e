#!/usr/bin/env python3
"""Writes small .deb files into DIR: one good package and one per way a package can lie or
attack. The test suite installs each and expects the hostile ones refused."""
import gzip
import hashlib
import io
import os
import sys
import tarfile


def ar(members):
    out = b"!<arch>\n"
    for name, data in members:
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}`\n".encode() + data
        if len(data) % 2:
            out += b"\n"
    return out


def tar_gz(entries):
    """entries: (TarInfo, bytes-or-fileobj-or-None)"""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.GNU_FORMAT) as archive:
            for info, data in entries:
                archive.addfile(info, io.BytesIO(data) if isinstance(data, bytes) else data)
    return buffer.getvalue()


def info(name, kind=tarfile.REGTYPE, size=0, mode=0o644, target=""):
    entry = tarfile.TarInfo(name)
    entry.type, entry.size, entry.mode, entry.linkname = kind, size, mode, target
    return entry


def regular(name, data, mode=0o644):
    return info(name, size=len(data), mode=mode), data


def directory(name):
    return info(name, tarfile.DIRTYPE, mode=0o755), None


def deb(path, data_entries, md5sums=None, name="evil"):
    control = f"Package: {name}\nVersion: 1.0\nArchitecture: amd64\nDepends: libc6 (>= 2.34), foo | bar\nDescription: test package\n".encode()
    control_entries = [regular("./control", control)]
    if md5sums is not None:
        control_entries.append(regular("./md5sums", md5sums.encode()))
    with open(path, "wb") as out:
        out.write(ar([("debian-binary", b"2.0\n"), ("control.tar.gz", tar_gz(control_entries)),
                      ("data.tar.gz", tar_gz(data_entries))]))


class Zeros(io.RawIOBase):
    def __init__(self, size):
        self.left = size

    def readable(self):
        return True

    def readinto(self, buffer):
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def main(out):
    os.makedirs(out, exist_ok=True)
    hello = b"#!/bin/sh\necho good\n"
    good_sums = f"{hashlib.md5(hello).hexdigest()}  usr/bin/good\n"
    deb(f"{out}/good.deb", [directory("./"), directory("./usr/"), directory("./usr/bin/"),
                            regular("./usr/bin/good", hello, 0o755)], good_sums, name="good")
    deb(f"{out}/climb.deb", [regular("./../../etc/evil", b"x")])
    deb(f"{out}/device.deb", [(info("./dev/null", tarfile.CHRTYPE, mode=0o666), None)])
    deb(f"{out}/through-symlink.deb", [(info("./usr/evil", tarfile.SYMTYPE, target="/"), None),
                                       regular("./usr/evil/etc/shadow", b"root::0:0")])
    # An empty Package: field would be stored as "=1.0", a trove no spec can name.
    deb(f"{out}/empty-name.deb", [regular("./usr/bin/x", b"x")], name="")
    deb(f"{out}/md5.deb", [regular("./usr/bin/x", b"hello")], f"{'0' * 32}  usr/bin/x\n")
    size = 128 << 20
    deb(f"{out}/bomb.deb", [(info("./usr/share/zeros", size=size), Zeros(size))])
    # Linux cannot create these: a name over NAME_MAX, a path over PATH_MAX, symlink targets
    # that are empty or over PATH_MAX.
    deb(f"{out}/long-name.deb", [regular("./usr/share/" + "n" * 256, b"x")])
    deb(f"{out}/long-path.deb", [(info("./usr/share/" + ("d" * 200 + "/") * 21 + "link", tarfile.SYMTYPE, target="x"), None)])
    deb(f"{out}/empty-target.deb", [(info("./usr/bin/empty", tarfile.SYMTYPE, target=""), None)])
    deb(f"{out}/long-target.deb", [(info("./usr/bin/long", tarfile.SYMTYPE, target="t" * 5000), None)])
    with open(f"{out}/good.deb", "rb") as good:
        whole = good.read()
    with open(f"{out}/truncated.deb", "wb") as truncated:
        truncated.write(whole[: len(whole) * 3 // 4])
    with open(f"{out}/not-a-package.deb", "w") as text:
        text.write("just text\n")


if __name__ == "__main__":
    main(sys.argv[1])
