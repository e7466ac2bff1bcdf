print("fpmctl")
