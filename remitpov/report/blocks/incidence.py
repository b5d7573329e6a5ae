"""Block ``incidence``: remittance incidence by domain (table ``incidence``, figure by decile).

% of persons in recipient households and of recipient households, remittances as % of
recipients' income, mean remittance per person in recipient households -- total, by area,
by quintile and decile of per-capita income WITHOUT remittances
(:func:`remitpov.estimation.mean` / :func:`~remitpov.estimation.ratio`).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._registry import Block, BlockOutput, register
from ._common import HH_FIRST, RECIPIENT, REMIT, Y_WITH, domain_specs, group_labels, rename_domain, tidy


def _rows(t, p, domain, by, indicator, unit, scale=100.0):
    fr = t.to_frame()
    return tidy({"survey": p.spec.label, "domain": domain, "group": group_labels(fr, by), "indicator": indicator},
                fr, unit, scale=scale)


def run(spec, p, ctx) -> BlockOutput:
    from ...estimation import mean, ratio

    sv = p.survey
    rec = sv.data[RECIPIENT].to_numpy(bool).astype(float)
    sv = sv.with_columns(_rec=rec, _remit_rec=sv.data[REMIT].to_numpy(float) * rec,
                         _y_rec=sv.data[Y_WITH].to_numpy(float) * rec)
    frames, est = [], {}
    for domain, by in domain_specs(spec, p):
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            t = mean(sv, "_rec", by=by, level="person", ci_level=spec.ci_level)
            est[f"persons_pct/{domain}"] = t
            frames.append(_rows(t, p, domain, by, "persons_in_recipient_households", "percent"))
            if p.household_level == "household":
                t = mean(sv, "_rec", by=by, level="household", ci_level=spec.ci_level)
            elif p.household_level == "first_member":
                d = sv.design("person").domain(sv.data[HH_FIRST].to_numpy(bool))
                codes = None if by is None else sv.data[by].to_numpy()
                t = mean(d, rec, by=codes, ci_level=spec.ci_level)
                if by is not None:
                    t = rename_domain(t, by)
            else:
                t = None
            if t is not None:
                est[f"households_pct/{domain}"] = t
                frames.append(_rows(t, p, domain, by, "recipient_households", "percent"))
            t = ratio(sv, "_remit_rec", "_y_rec", by=by, level="person", ci_level=spec.ci_level)
            est[f"remittance_share/{domain}"] = t
            frames.append(_rows(t, p, domain, by, "remittances_pct_of_recipient_income", "percent"))
            t = ratio(sv, "_remit_rec", "_rec", by=by, level="person", ci_level=spec.ci_level)
            est[f"mean_remittance/{domain}"] = t
            frames.append(_rows(t, p, domain, by, "mean_remittance_per_person_in_recipient_households",
                                "currency per person", scale=1.0))
    return BlockOutput({"incidence": pd.concat(frames, ignore_index=True)}, est)


def figures(spec, tables, extras, folder):
    from .. import figures as F

    inc = tables.get("incidence")
    if inc is None:
        return []
    sub = inc[(inc["domain"] == "decile") & (inc["indicator"] == "persons_in_recipient_households")].copy()
    if not len(sub):
        return []
    sub["group"] = sub["group"].astype(int)
    return F.recipients_by_decile(sub, folder / "recipients_by_decile", language=spec.language, formats=spec.figures)


BLOCK = register(Block("incidence", run, ("incidence",), rank=10, step="{sid}: remittance incidence",
                       needs_remittances=True, tidy=("incidence",), figures=figures))
