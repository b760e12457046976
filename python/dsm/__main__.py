"""python3 -m dsm import FILE.pkl --name NAME: what `dsm import` runs."""
import argparse
import sys

from . import Error, Repo, import_pickle


def main(argv=None):
    parser = argparse.ArgumentParser(prog="dsm import", description=(
        "Store the arrays in a pickle (dicts/lists of arrays and scalars) as a dataset, reading it with a "
        "restricted unpickler: any global other than NumPy's array reconstruction and builtin containers "
        "and scalars is refused by name before it runs, and nothing is stored."))
    parser.add_argument("command", choices=["import"])
    parser.add_argument("file", help="the pickle file")
    parser.add_argument("--name", required=True, help="the dataset name")
    parser.add_argument("--message", help="the version's message")
    parser.add_argument("--repo", default=".", help="a path inside the repository (default: .)")
    args = parser.parse_args(argv)
    try:
        saved = import_pickle(args.file, args.name, repo=Repo(args.repo), message=args.message)
    except Error as e:
        sys.stderr.write(f"dsm: error: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("dsm: error: interrupted\n")
        return 130
    print(saved.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
