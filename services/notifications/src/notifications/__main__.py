from servicekit.main import main

from notifications.service import DEFINITION

if __name__ == "__main__":
    main(DEFINITION)
