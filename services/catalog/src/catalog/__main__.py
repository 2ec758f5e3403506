from servicekit.main import main

from catalog.service import DEFINITION

if __name__ == "__main__":
    main(DEFINITION)
