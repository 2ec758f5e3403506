from servicekit.main import main

from vouchers.service import DEFINITION

if __name__ == "__main__":
    main(DEFINITION)
