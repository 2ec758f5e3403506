from servicekit.main import main

from booking.service import DEFINITION

if __name__ == "__main__":
    main(DEFINITION)
