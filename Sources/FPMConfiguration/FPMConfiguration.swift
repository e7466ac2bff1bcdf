// php-fpm configuration.
