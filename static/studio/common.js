/* Shared by the studio editors: page config, JSON posts with the CSRF header, the status line. */
(function () {
  'use strict';

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  var config = readJson('studio-config') || {};

  function status(message, kind) {
    var el = document.getElementById('studio-status');
    if (!el) { return; }
    el.textContent = message;
    el.className = 'studio-status' + (kind ? ' studio-status-' + kind : '');
  }

  /* POST JSON; resolves {status, ok, data} (data: parsed JSON, or text when the answer is HTML). */
  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': config.csrf_token, 'Accept': 'application/json' },
      body: JSON.stringify(body)
    }).then(function (response) {
      var type = response.headers.get('Content-Type') || '';
      var read = type.indexOf('json') >= 0 ? response.json() : response.text();
      return read.then(function (data) { return { status: response.status, ok: response.ok, data: data }; });
    }, function () {
      return { status: 0, ok: false, data: { error: { message: '网络连接失败，请稍后重试' } } };
    });
  }

  function errorText(result) {
    var error = result.data && result.data.error;
    if (!error) { return '保存失败（' + result.status + '）'; }
    var details = [];
    Object.keys(error.fields || {}).forEach(function (key) {
      (error.fields[key] || []).forEach(function (m) { if (m !== error.message) { details.push(m); } });
    });
    return error.message + (details.length ? '：' + details.join('；') : '');
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') { node.textContent = attrs[key]; } else if (key === 'class') { node.className = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  window.Studio = { config: config, readJson: readJson, status: status, post: post, errorText: errorText, el: el };
})();
