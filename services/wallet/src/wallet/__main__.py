from servicekit.main import main

from wallet.service import DEFINITION

if __name__ == "__main__":
    main(DEFINITION)
