"""The address book (通讯录): browsing, search and the visibility rules every person-returning API applies."""
