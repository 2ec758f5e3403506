from notifications.service import DEFINITION
from servicekit.service import main

if __name__ == "__main__":
    main(DEFINITION)
