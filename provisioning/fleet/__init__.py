"""The fleet server the staff use: kiosks enrol and check in through its API (``/api/v1``)."""

from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from provisioning.fleet.settings import Settings


def create_app(settings: Settings | Mapping[str, Any] | None = None) -> Flask:
    """The app factory. ``settings``: a :class:`Settings`, a mapping of setting names, or None
    to read ``FLEET_*`` environment variables."""
    if settings is None:
        settings = Settings.from_env()
    elif not isinstance(settings, Settings):
        settings = Settings.from_mapping(settings)
    settings.check_secret()
    app = Flask(__name__)
    app.config.update(
        FLEET_SETTINGS=settings, SECRET_KEY=settings.secret_key or None, TESTING=settings.testing,
        MAX_CONTENT_LENGTH=settings.max_body_bytes, JSON_SORT_KEYS=False,
    )
    app.json.compact = True
    app.json.sort_keys = False

    from provisioning.fleet import actions_api, api, bundle_api, callback_endpoint, dashboard, errors, metrics
    from provisioning.fleet import release_api
    from provisioning.fleet.dashboard import release_pages
    from provisioning.fleet.accounts import reset_views
    from provisioning.fleet.accounts import views as account_views
    from provisioning.fleet.dashboard import actions, alert_pages, asset_register, callbacks_pages, exports_page, pages
    from provisioning.fleet.dashboard import management_pages, remote_actions_pages, usage_pages
    from provisioning.fleet.exports import views as export_views
    from provisioning.fleet.store import engine as db
    db.init_app(app)
    errors.init_app(app)
    dashboard.init_app(app)  # what every staff page needs: logins, CSRF, sessions, headers, error pages
    for blueprint in (api.blueprint, callback_endpoint.blueprint, account_views.blueprint, pages.blueprint, actions.blueprint,
                      usage_pages.blueprint, asset_register.blueprint, export_views.blueprint, exports_page.blueprint,
                      alert_pages.blueprint, reset_views.blueprint, callbacks_pages.blueprint,
                      metrics.blueprint, bundle_api.blueprint, management_pages.blueprint, release_api.blueprint,
                      release_pages.blueprint, actions_api.blueprint,
                      remote_actions_pages.blueprint):
        app.register_blueprint(blueprint)
    from provisioning.fleet import assist_api
    from provisioning.fleet.dashboard import assist_pages
    app.register_blueprint(assist_api.blueprint)  # consented remote assistance (issue 13)
    app.register_blueprint(assist_pages.blueprint)
    from provisioning.fleet.dashboard import catalog_pages
    app.register_blueprint(catalog_pages.blueprint)  # the national services catalog (issue 12)
    from provisioning.fleet.checkin_endpoint import CheckinEndpoint
    app.wsgi_app = CheckinEndpoint(app.wsgi_app, settings, db.get_engine_of(app))  # the hot path, ahead of Flask
    if settings.trusted_proxies:
        # Behind nginx: the client is the address the outermost trusted proxy saw (login throttling,
        # session records), the scheme the one it was reached by. With 0, the headers are ignored.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    return app
