print("fpm")
