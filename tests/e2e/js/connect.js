// jsforce against the local org: by access token (org.json), then by a refresh token (OAuth2 refresh grant).
// Usage: JSFORCE=<path to @jsforce/jsforce-node> REFRESH_TOKEN=... CLIENT_ID=... node connect.js org.json
const jsforce = require(process.env.JSFORCE);
const org = require(process.argv[2]);

(async () => {
  const byToken = new jsforce.Connection({ instanceUrl: org.instance_url, accessToken: org.access_token, version: '62.0' });
  const users = await byToken.query('SELECT Username FROM User WHERE IsActive = true');
  const oauth2 = new jsforce.OAuth2({ loginUrl: org.instance_url, clientId: process.env.CLIENT_ID });
  const refreshed = await oauth2.refreshToken(process.env.REFRESH_TOKEN);
  const bySession = new jsforce.Connection({ instanceUrl: refreshed.instance_url, accessToken: refreshed.access_token,
                                             version: '62.0' });
  const created = await bySession.sobject('Contact').create({ LastName: 'Jsforce' });
  console.log(JSON.stringify({ users: users.records.map(r => r.Username), created: created.success }));
})().catch(error => { console.error(String(error)); process.exit(1); });
